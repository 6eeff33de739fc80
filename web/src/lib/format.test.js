import { describe, expect, test } from 'vitest';
import {
  formatAxisMiB,
  formatBinarySize,
  formatBytesAsMiB,
  formatGrouped,
  formatMiB,
  formatPercent,
  plural,
} from './format.js';

describe('formatMiB', () => {
  test('two decimals and the MiB unit', () => {
    expect(formatMiB(44)).toBe('44.00 MiB');
    expect(formatMiB(2.75)).toBe('2.75 MiB');
    expect(formatMiB(41.25)).toBe('41.25 MiB');
    expect(formatMiB(0)).toBe('0.00 MiB');
    expect(formatMiB(6144)).toBe('6144.00 MiB');
  });
  test('a missing figure shows a dash, not NaN', () => {
    expect(formatMiB(undefined)).toBe('–');
    expect(formatMiB('x')).toBe('–');
  });
  test('exact bytes: 46,137,344 B = 44.00 MiB, 2,883,584 B = 2.75 MiB', () => {
    expect(formatBytesAsMiB(46137344)).toBe('44.00 MiB');
    expect(formatBytesAsMiB(2883584)).toBe('2.75 MiB');
    expect(formatBytesAsMiB(369098752)).toBe('352.00 MiB');
    // 3 blocks of 16 tokens at 22,528 B = 1,081,344 B = 1.03125 MiB
    expect(formatBytesAsMiB(1081344)).toBe('1.03 MiB');
  });
});

describe('formatPercent', () => {
  test('percentages are 0..100 with two decimals', () => {
    expect(formatPercent(93.75)).toBe('93.75 %');
    expect(formatPercent(0.78)).toBe('0.78 %');
    expect(formatPercent(100)).toBe('100.00 %');
    expect(formatPercent(0)).toBe('0.00 %');
  });
});

describe('other formats', () => {
  test('grouped integers', () => {
    expect(formatGrouped(46137344)).toBe('46,137,344');
    expect(formatGrouped(999)).toBe('999');
    expect(formatGrouped(-1234)).toBe('-1,234');
  });
  test('binary sizes', () => {
    expect(formatBinarySize(22528)).toBe('22.00 KiB');
    expect(formatBinarySize(524288)).toBe('512.00 KiB');
    expect(formatBinarySize(1048576)).toBe('1.00 MiB');
    expect(formatBinarySize(640)).toBe('640 B');
  });
  test('axis labels drop trailing zeros', () => {
    expect(formatAxisMiB(0)).toBe('0');
    expect(formatAxisMiB(12.5)).toBe('12.5');
    expect(formatAxisMiB(2.25)).toBe('2.25');
    expect(formatAxisMiB(352)).toBe('352');
  });
  test('plural', () => {
    expect(plural(1, 'block')).toBe('1 block');
    expect(plural(8, 'block')).toBe('8 blocks');
  });
});
