// A demo burst: many /v1/completions requests at once, so the live block map fills and empties while one
// watches. Every other request starts with the same long opening, so once the first of them has cached its
// full prompt blocks the later ones adopt them (prefix sharing shows as blocks held by several sequences).

export const BURST_LIMITS = { requests: { min: 1, max: 64 }, maxTokens: { min: 1, max: 400 } };
export const DEFAULT_BURST = { requests: 24, maxTokens: 200 };

export const SHARED_OPENING =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her ' +
  'friends. One day, Lily saw a big red ball under a tree.';

const ENDINGS = [
  ' She ran to get it.',
  ' Her mom said to be careful.',
  ' A small dog came to play too.',
  ' It was very shiny.',
  ' Tom wanted the ball.',
  ' The sun was warm.',
];

const OWN_OPENINGS = [
  'Tom had a toy car.',
  'The cat sat on the mat.',
  'Ben and Mia went to the beach.',
  'A bird sang in the tree.',
  'Sue liked to draw.',
  'The boat was blue.',
];

// Request i's prompt: even i share SHARED_OPENING (their endings differ), odd i have a short one of their own.
export function burstPrompt(i) {
  const k = Math.floor(i / 2);
  if (i % 2 === 0) return SHARED_OPENING + ENDINGS[k % ENDINGS.length];
  return OWN_OPENINGS[k % OWN_OPENINGS.length];
}

export function clampBurst({ requests, maxTokens }) {
  const clamp = (v, { min, max }, fallback) => {
    const n = Math.round(Number(v));
    return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
  };
  return {
    requests: clamp(requests, BURST_LIMITS.requests, DEFAULT_BURST.requests),
    maxTokens: clamp(maxTokens, BURST_LIMITS.maxTokens, DEFAULT_BURST.maxTokens),
  };
}

// Sends the burst. onProgress({ sent, running, finished, failed, lastError }) after each change; resolves to
// the final counts. A refused request (the engine full, prompt too long) counts as failed, with its message.
export async function sendBurst({ apiBase = '', requests, maxTokens, onProgress = () => {}, fetchImpl, signal }) {
  const doFetch = fetchImpl ?? globalThis.fetch;
  const progress = { sent: requests, running: requests, finished: 0, failed: 0, lastError: null };
  onProgress({ ...progress });
  const one = async (i) => {
    try {
      const response = await doFetch(`${apiBase}/v1/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt: burstPrompt(i), max_tokens: maxTokens, temperature: 0.8, seed: i }),
        signal,
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
      progress.finished += 1;
    } catch (err) {
      progress.failed += 1;
      progress.lastError = err?.name === 'AbortError' ? 'cancelled' : String(err?.message ?? err);
    }
    progress.running -= 1;
    onProgress({ ...progress });
  };
  await Promise.all(Array.from({ length: requests }, (_, i) => one(i)));
  return { ...progress };
}
