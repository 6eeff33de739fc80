// Turns a GET /compare/speculative answer into what the page shows: card figures, histogram bars, token
// spans, timeline points, and a cross-check of the answer's own counts.
import { formatGrouped, formatPercent, plural } from './format.js';

// null, undefined and '' are missing, not 0.
function finite(value) {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

// 812.5 -> "812.5", 1490.14 -> "1,490.1" (one decimal, thousands grouped).
export function formatTokensPerSecond(tps) {
  const n = finite(tps);
  if (n === null) return '–';
  const [whole, frac] = Math.abs(n).toFixed(1).split('.');
  return `${n < 0 ? '-' : ''}${formatGrouped(Number(whole))}.${frac}`;
}

// 1.83 -> "1.83x".
export function formatSpeedup(speedup) {
  const n = finite(speedup);
  return n === null ? '–' : `${n.toFixed(2)}x`;
}

// A fraction 0..1 -> "52.50 %".
export function formatRate(fraction) {
  const n = finite(fraction);
  return n === null ? '–' : formatPercent(n * 100);
}

// Seconds -> "78.8 ms" below 10 s, else "12.35 s".
export function formatSeconds(seconds) {
  const n = finite(seconds);
  if (n === null) return '–';
  return n < 10 ? `${(n * 1000).toFixed(1)} ms` : `${n.toFixed(2)} s`;
}

// Milliseconds: two decimals below 10 ms (small models answer in fractions of one), else one.
export function formatMs(ms) {
  const n = finite(ms);
  if (n === null) return '–';
  return `${n.toFixed(Math.abs(n) < 10 ? 2 : 1)} ms`;
}

// The four cards, in order (baseline, speculative, speedup, acceptance).
export function speculativeCards(data) {
  const b = data.baseline ?? {};
  const s = data.speculative ?? {};
  const speedup = finite(data.speedup);
  return [
    {
      key: 'baseline',
      label: 'Baseline',
      value: formatTokensPerSecond(b.tokens_per_second),
      unit: 'tok/s',
      note: `${plural(b.generated_tokens, 'token')} in ${formatSeconds(b.seconds)}, ${plural(b.target_forwards, 'target forward')}`,
    },
    {
      key: 'speculative',
      label: `Speculative (${data.method}, K=${data.spec_tokens})`,
      value: formatTokensPerSecond(s.tokens_per_second),
      unit: 'tok/s',
      note: `${plural(s.generated_tokens, 'token')} in ${formatSeconds(s.seconds)}, ${plural(s.target_forwards, 'target forward')}`,
    },
    {
      key: 'speedup',
      label: 'Speedup',
      value: formatSpeedup(speedup),
      note: speedup !== null && speedup < 1 ? 'slower than the baseline on this run' : 'speculative ÷ baseline tokens/s',
    },
    {
      key: 'acceptance',
      label: 'Acceptance rate',
      value: formatRate(data.acceptance_rate),
      sub: `${s.accepted}/${s.proposed} drafts accepted`,
      note: `${(finite(data.mean_accepted_per_step) ?? 0).toFixed(2)} accepted per verification step`,
    },
  ];
}

// Histogram bars n = 0..K; `fraction` is the bar's height relative to the tallest (0 when all are 0).
export function histogramBars(histogram) {
  const counts = Array.isArray(histogram) ? histogram.map((c) => finite(c) ?? 0) : [];
  const max = Math.max(0, ...counts);
  return counts.map((count, n) => ({ n, count, fraction: max > 0 ? count / max : 0 }));
}

// Verification steps = sum of the histogram; drafts kept = sum of n * count.
export function histogramTotals(histogram) {
  return histogramBars(histogram).reduce(
    (t, { n, count }) => ({ steps: t.steps + count, accepted: t.accepted + n * count }),
    { steps: 0, accepted: 0 },
  );
}

const SOURCE_LABEL = { draft: 'accepted draft', target: 'target' };

// One span per generated token. A token's text is shown as the model produced it; a newline or an empty
// piece gets a visible mark so every token stays hoverable.
export function tokenSpans(tokens) {
  return (Array.isArray(tokens) ? tokens : []).map((t, i) => {
    const source = t.source === 'draft' ? 'draft' : 'target';
    const text = typeof t.text === 'string' ? t.text : '';
    return {
      index: i,
      id: t.id,
      source,
      text,
      display: text === '' ? '∅' : text.replace(/\n/g, '↵\n'),
      title:
        `#${i + 1} · id ${t.id} · ${SOURCE_LABEL[source]} · ` +
        `baseline ${formatMs(t.baseline_ms)} · speculative ${formatMs(t.speculative_ms)}`,
    };
  });
}

// Timeline points [token number (1-based), ms since submit] for both runs, and the largest time.
export function timelineSeries(tokens) {
  const list = Array.isArray(tokens) ? tokens : [];
  const baseline = [];
  const speculative = [];
  let maxMs = 0;
  list.forEach((t, i) => {
    const b = finite(t.baseline_ms);
    const s = finite(t.speculative_ms);
    if (b !== null) baseline.push([i + 1, b]);
    if (s !== null) speculative.push([i + 1, s]);
    maxMs = Math.max(maxMs, b ?? 0, s ?? 0);
  });
  return { baseline, speculative, maxMs, count: list.length };
}

// The answer's counts must agree with each other; each disagreement is listed (an empty list = consistent).
export function speculativeMismatches(data) {
  const out = [];
  const s = data.speculative ?? {};
  const spans = tokenSpans(data.tokens);
  const drafts = spans.filter((t) => t.source === 'draft').length;
  if (drafts !== s.accepted) out.push({ field: 'accepted', page: drafts, server: s.accepted, what: 'draft tokens in the text' });
  if (spans.length !== s.generated_tokens)
    out.push({ field: 'generated_tokens', page: spans.length, server: s.generated_tokens, what: 'tokens listed' });
  const totals = histogramTotals(data.accepted_histogram);
  if (totals.accepted !== s.accepted)
    out.push({ field: 'accepted_histogram', page: totals.accepted, server: s.accepted, what: 'drafts kept per the histogram' });
  return out;
}
