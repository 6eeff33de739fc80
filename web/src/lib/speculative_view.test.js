import { describe, expect, test } from 'vitest';
import { SPEC_API } from '../test/speculative_fixture.js';
import {
  formatMs,
  formatRate,
  formatSeconds,
  formatSpeedup,
  formatTokensPerSecond,
  histogramBars,
  histogramTotals,
  speculativeCards,
  speculativeMismatches,
  timelineSeries,
  tokenSpans,
} from './speculative_view.js';

describe('formatting', () => {
  test('tokens per second: one decimal, grouped thousands', () => {
    expect(formatTokensPerSecond(812.5)).toBe('812.5');
    expect(formatTokensPerSecond(1490.14)).toBe('1,490.1');
    expect(formatTokensPerSecond(500)).toBe('500.0');
    expect(formatTokensPerSecond(123456.78)).toBe('123,456.8');
    expect(formatTokensPerSecond(undefined)).toBe('–');
  });

  test('speedup, rate, seconds, ms', () => {
    expect(formatSpeedup(1.83)).toBe('1.83x');
    expect(formatSpeedup(1.6)).toBe('1.60x');
    expect(formatSpeedup(null)).toBe('–');
    expect(formatRate(0.525)).toBe('52.50 %');
    expect(formatRate(0.4375)).toBe('43.75 %');
    expect(formatRate(0)).toBe('0.00 %');
    expect(formatSeconds(0.0788)).toBe('78.8 ms');
    expect(formatSeconds(12.345)).toBe('12.35 s'); // 12.345 is stored as 12.3450000000000006
    expect(formatMs(1.2)).toBe('1.20 ms');
    expect(formatMs(0.142673)).toBe('0.14 ms');
    expect(formatMs(12.25)).toBe('12.3 ms'); // 12.25 is exact in binary; toFixed rounds half up here
  });
});

describe('cards from the fixture', () => {
  test('every figure', () => {
    const cards = speculativeCards(SPEC_API);
    expect(cards.map((c) => c.key)).toEqual(['baseline', 'speculative', 'speedup', 'acceptance']);
    expect(cards[0]).toMatchObject({ value: '500.0', unit: 'tok/s', note: '12 tokens in 24.0 ms, 12 target forwards' });
    expect(cards[1]).toMatchObject({
      label: 'Speculative (ngram, K=4)',
      value: '800.0',
      note: '12 tokens in 15.0 ms, 5 target forwards',
    });
    expect(cards[2]).toMatchObject({ value: '1.60x', note: 'speculative ÷ baseline tokens/s' });
    // 7 / 16 = 0.4375
    expect(cards[3]).toMatchObject({ value: '43.75 %', sub: '7/16 drafts accepted', note: '1.75 accepted per verification step' });
  });

  test('a speedup below 1 says so', () => {
    expect(speculativeCards({ ...SPEC_API, speedup: 0.85 })[2]).toMatchObject({
      value: '0.85x',
      note: 'slower than the baseline on this run',
    });
  });
});

describe('histogram', () => {
  test('bars relative to the tallest, totals', () => {
    // [2, 0, 0, 1, 1]: tallest 2
    expect(histogramBars(SPEC_API.accepted_histogram)).toEqual([
      { n: 0, count: 2, fraction: 1 },
      { n: 1, count: 0, fraction: 0 },
      { n: 2, count: 0, fraction: 0 },
      { n: 3, count: 1, fraction: 0.5 },
      { n: 4, count: 1, fraction: 0.5 },
    ]);
    // steps 2 + 1 + 1 = 4; kept 3 * 1 + 4 * 1 = 7
    expect(histogramTotals(SPEC_API.accepted_histogram)).toEqual({ steps: 4, accepted: 7 });
    expect(histogramBars([0, 0])).toEqual([
      { n: 0, count: 0, fraction: 0 },
      { n: 1, count: 0, fraction: 0 },
    ]);
    expect(histogramBars(undefined)).toEqual([]);
  });
});

describe('token spans', () => {
  test('one per token, sources, tooltips, visible newlines', () => {
    const spans = tokenSpans(SPEC_API.tokens);
    expect(spans).toHaveLength(12);
    expect(spans.filter((s) => s.source === 'draft').map((s) => s.index)).toEqual([1, 2, 3, 6, 7, 8, 9]);
    expect(spans[0].title).toBe('#1 · id 412 · target · baseline 2.00 ms · speculative 3.00 ms');
    expect(spans[1].title).toBe('#2 · id 17 · accepted draft · baseline 4.00 ms · speculative 6.00 ms');
    expect(spans[11]).toMatchObject({ text: '\n', display: '↵\n' });
    expect(tokenSpans([{ id: 0, text: '', source: 'weird' }])[0]).toMatchObject({ source: 'target', display: '∅' });
  });
});

describe('timeline', () => {
  test('points per run and the largest time', () => {
    const t = timelineSeries(SPEC_API.tokens);
    expect(t.count).toBe(12);
    expect(t.maxMs).toBe(24);
    expect(t.baseline.slice(0, 3)).toEqual([[1, 2], [2, 4], [3, 6]]);
    expect(t.speculative.slice(0, 6)).toEqual([[1, 3], [2, 6], [3, 6], [4, 6], [5, 6], [6, 9]]);
    expect(t.speculative.at(-1)).toEqual([12, 15]);
  });
});

describe('consistency', () => {
  test('the fixture agrees with itself', () => {
    expect(speculativeMismatches(SPEC_API)).toEqual([]);
  });

  test('a draft count that differs from accepted is reported', () => {
    const tokens = SPEC_API.tokens.map((t, i) => (i === 1 ? { ...t, source: 'target' } : t));
    expect(speculativeMismatches({ ...SPEC_API, tokens })).toEqual([
      { field: 'accepted', page: 6, server: 7, what: 'draft tokens in the text' },
    ]);
    expect(speculativeMismatches({ ...SPEC_API, accepted_histogram: [3, 0, 0, 0, 1] })).toEqual([
      { field: 'accepted_histogram', page: 4, server: 7, what: 'drafts kept per the histogram' },
    ]);
  });
});
