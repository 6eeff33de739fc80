import { describe, expect, test } from 'vitest';
import { linearScale, niceStep, niceTicks } from './chart_scale.js';

describe('chart scales', () => {
  test('nice steps', () => {
    expect(niceStep(44, 4)).toBe(20);
    expect(niceStep(2048, 5)).toBe(500);
    expect(niceStep(1, 4)).toBe(0.25);
    expect(niceStep(0)).toBe(1);
  });
  test('ticks cover the maximum', () => {
    expect(niceTicks(44, 4)).toEqual({ step: 20, top: 60, ticks: [0, 20, 40, 60] });
    expect(niceTicks(40, 4)).toEqual({ step: 10, top: 40, ticks: [0, 10, 20, 30, 40] });
    expect(niceTicks(2048, 5).ticks).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });
  test('linear scale, inverted y', () => {
    const y = linearScale(0, 60, 220, 30);
    expect(y(0)).toBe(220);
    expect(y(60)).toBe(30);
    expect(y(30)).toBe(125);
  });
});
