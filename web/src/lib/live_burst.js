// A demo burst: many sequences at once through /v1/completions, so the live block map fills and empties while
// one watches. A browser opens at most 6 connections to one server and the event stream and the figures poll
// hold two, so the burst is at most 4 requests at once, each asking for n choices (n sequences that fork from
// one prompt and share its blocks). Requests 0 and 2 start with the same long opening: once the first has
// cached its full prompt blocks the other adopts them (prefix caching across requests).

export const MAX_PARALLEL_REQUESTS = 4;
export const BURST_LIMITS = { sequences: { min: 1, max: 128 }, maxTokens: { min: 1, max: 400 } };
export const DEFAULT_BURST = { sequences: 32, maxTokens: 200 };

export const SHARED_OPENING =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her ' +
  'friends. One day, Lily saw a big red ball under a tree. She wanted to play with it, but it was too high. ' +
  'Lily asked her friend Ben to help her. Ben was tall and strong.';

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

export function clampBurst({ sequences, maxTokens }) {
  const clamp = (v, { min, max }, fallback) => {
    const n = Math.round(Number(v));
    return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
  };
  return {
    sequences: clamp(sequences, BURST_LIMITS.sequences, DEFAULT_BURST.sequences),
    maxTokens: clamp(maxTokens, BURST_LIMITS.maxTokens, DEFAULT_BURST.maxTokens),
  };
}

// The requests of a burst of `sequences`: min(sequences, MAX_PARALLEL_REQUESTS) of them, n split as evenly as
// possible (the first ones take the remainder), e.g. 10 -> n = 3, 3, 2, 2.
export function burstPlan(sequences) {
  const requests = Math.max(0, Math.min(sequences, MAX_PARALLEL_REQUESTS));
  return Array.from({ length: requests }, (_, i) => ({
    prompt: burstPrompt(i),
    n: Math.floor(sequences / requests) + (i < sequences % requests ? 1 : 0),
  }));
}

// Sends the burst. Counts are in sequences: onProgress({ total, running, finished, failed, lastError }) after
// each change (a request's n sequences end together); resolves to the final counts. A refused request (the
// pool too small for its n sequences, a prompt too long) counts its sequences as failed, with the message.
export async function sendBurst({ apiBase = '', sequences, maxTokens, onProgress = () => {}, fetchImpl, signal }) {
  const doFetch = fetchImpl ?? globalThis.fetch;
  const progress = { total: sequences, running: sequences, finished: 0, failed: 0, lastError: null };
  onProgress({ ...progress });
  const one = async ({ prompt, n }, i) => {
    try {
      const response = await doFetch(`${apiBase}/v1/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ prompt, n, max_tokens: maxTokens, temperature: 0.8, seed: i }),
        signal,
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
      progress.finished += n;
    } catch (err) {
      progress.failed += n;
      progress.lastError = err?.name === 'AbortError' ? 'cancelled' : String(err?.message ?? err);
    }
    progress.running -= n;
    onProgress({ ...progress });
  };
  await Promise.all(burstPlan(sequences).map(one));
  return { ...progress };
}
