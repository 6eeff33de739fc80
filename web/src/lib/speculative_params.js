// The speculative comparison's inputs: defaults, the limits GET /compare/speculative enforces, and its
// query string.

// Repetitive on purpose: prompt lookup (ngram) proposes continuations of n-grams already in the context,
// so a prompt that repeats itself gives it something to find. On stories260K this one keeps
// about half of the drafts (28 of 60 at K = 4, 64 tokens).
export const DEFAULT_SPEC_PROMPT =
  'The little girl said, "I want to play with your ball." ' +
  'The little boy said, "I want to play with your ball." The little girl said,';

export const SPEC_METHODS = Object.freeze([
  { value: 'ngram', label: 'ngram (prompt lookup)' },
  { value: 'draft', label: 'draft model' },
]);

export const SPEC_LIMITS = Object.freeze({
  max_tokens: { min: 1, max: 512 },
  spec_tokens: { min: 1, max: 8 },
});

export const DEFAULT_SPEC_PARAMS = Object.freeze({
  prompt: DEFAULT_SPEC_PROMPT,
  max_tokens: 64,
  method: 'ngram',
  spec_tokens: 4,
});

// Spaces are sent as %20, not '+', so the prompt reaches the server unchanged whatever its query decoder.
export function speculativeQuery(params) {
  return ['prompt', 'max_tokens', 'method', 'spec_tokens']
    .map((key) => `${key}=${encodeURIComponent(String(params[key]))}`)
    .join('&');
}
