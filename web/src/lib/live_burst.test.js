import { describe, expect, test } from 'vitest';
import { burstPlan, burstPrompt, clampBurst, SHARED_OPENING } from './live_burst.js';

describe('burst', () => {
  test('sequences split over at most 4 requests, the first ones taking the remainder', () => {
    expect(burstPlan(1).map((r) => r.n)).toEqual([1]);
    expect(burstPlan(3).map((r) => r.n)).toEqual([1, 1, 1]);
    expect(burstPlan(10).map((r) => r.n)).toEqual([3, 3, 2, 2]); // 10 = 4*2 + 2
    expect(burstPlan(128).map((r) => r.n)).toEqual([32, 32, 32, 32]);
  });

  test('requests 0 and 2 share the long opening, 1 and 3 do not', () => {
    const prompts = burstPlan(4).map((r) => r.prompt);
    expect(prompts[0].startsWith(SHARED_OPENING)).toBe(true);
    expect(prompts[2].startsWith(SHARED_OPENING)).toBe(true);
    expect(prompts[0]).not.toBe(prompts[2]);
    expect(prompts[1].startsWith(SHARED_OPENING)).toBe(false);
    expect(prompts[3].startsWith(SHARED_OPENING)).toBe(false);
    expect(burstPrompt(1)).toBe('Tom had a toy car.');
  });

  test('inputs are clamped to the limits', () => {
    expect(clampBurst({ sequences: 500, maxTokens: 0 })).toEqual({ sequences: 128, maxTokens: 1 });
    expect(clampBurst({ sequences: 'x', maxTokens: 12.4 })).toEqual({ sequences: 32, maxTokens: 12 });
  });
});
