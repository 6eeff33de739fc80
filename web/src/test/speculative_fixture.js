// A GET /compare/speculative answer, small enough to check every figure by hand.
//
// 12 tokens, K = 4. The prefill yields token 1 (target); then four verification steps:
//   step 1 keeps 3 drafts + 1 target token  (tokens 2-5)
//   step 2 keeps 0 drafts + 1 target token  (token 6)
//   step 3 keeps 4 drafts + 1 bonus token   (tokens 7-11)
//   step 4 keeps 0 drafts + 1 target token  (token 12)
// accepted = 3 + 4 = 7 of proposed 4 * 4 = 16; histogram [2, 0, 0, 1, 1]; mean 7 / 4 = 1.75.
// Target forwards: baseline 12 (one per token), speculative 1 + 4 = 5; saved 7.
// Baseline: a token every 2 ms, 12 tokens in 0.024 s = 500 tok/s.
// Speculative: the prefill token at 3 ms, then one step every 3 ms; 12 tokens in 0.015 s = 800 tok/s.
const SOURCES = ['target', 'draft', 'draft', 'draft', 'target', 'target', 'draft', 'draft', 'draft', 'draft', 'target', 'target'];
const TEXTS = [' Lily', ' was', ' a', ' little', ' girl', '.', ' She', ' liked', ' to', ' play', '.', '\n'];
const IDS = [412, 17, 9, 301, 275, 46, 119, 283, 30, 220, 46, 13];
const SPEC_MS = [3, 6, 6, 6, 6, 9, 12, 12, 12, 12, 12, 15];

export const SPEC_API = {
  model: 'stories260K',
  method: 'ngram',
  spec_tokens: 4,
  prompt_tokens: 5,
  max_tokens: 12,
  baseline: { tokens_per_second: 500, generated_tokens: 12, seconds: 0.024, target_forwards: 12 },
  speculative: {
    tokens_per_second: 800,
    generated_tokens: 12,
    seconds: 0.015,
    target_forwards: 5,
    proposed: 16,
    accepted: 7,
  },
  speedup: 1.6,
  acceptance_rate: 0.4375,
  mean_accepted_per_step: 1.75,
  accepted_histogram: [2, 0, 0, 1, 1],
  forwards_saved: 7,
  identical: true,
  text: 'Once upon a time Lily was a little girl. She liked to play.\n',
  tokens: SOURCES.map((source, i) => ({
    id: IDS[i],
    text: TEXTS[i],
    source,
    baseline_ms: 2 * (i + 1),
    speculative_ms: SPEC_MS[i],
  })),
};
