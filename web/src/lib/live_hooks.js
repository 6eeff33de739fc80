// React hooks of the live memory view: whether the server runs a model, the live block map, and the live
// paged-vs-contiguous figures.
import { useCallback, useEffect, useRef, useState } from 'react';
import { fetchJson } from './api.js';
import { LiveKvFeed } from './live_feed.js';

// true / false once GET /health has answered (model_loaded), null before or if it cannot say.
export function useModelLoaded(apiBase, timeoutMs) {
  const [loaded, setLoaded] = useState(null);
  useEffect(() => {
    const controller = new AbortController();
    fetchJson(`${apiBase}/health`, { signal: controller.signal, timeoutMs })
      .then((body) => setLoaded(typeof body?.model_loaded === 'boolean' ? body.model_loaded : null))
      .catch(() => setLoaded(null));
    return () => controller.abort();
  }, [apiBase, timeoutMs]);
  return loaded;
}

// The engine's block map while `active`: { status, state, error, resetPeak }.
export function useLiveKv(apiBase, active, { EventSourceImpl, timeoutMs } = {}) {
  const [view, setView] = useState({ status: 'connecting', state: null, error: null });
  const feedRef = useRef(null);
  useEffect(() => {
    if (!active) return undefined;
    setView({ status: 'connecting', state: null, error: null });
    const feed = new LiveKvFeed({ apiBase, onChange: setView, EventSourceImpl, timeoutMs }).start();
    feedRef.current = feed;
    return () => {
      feed.stop();
      if (feedRef.current === feed) feedRef.current = null;
    };
  }, [apiBase, active, EventSourceImpl, timeoutMs]);
  const resetPeak = useCallback(() => feedRef.current?.resetPeak(), []);
  return { ...view, resetPeak };
}

// GET /compare/memory?source=live: fetched when `active` turns on, every `pollMs` while `polling`, and once
// more when polling stops (the figures after the last request ended). { data, error }.
export function useLiveMemory(apiBase, active, polling, { pollMs = 250, timeoutMs } = {}) {
  const [result, setResult] = useState({ data: null, error: null });
  const fetchNow = useCallback(
    (signal) =>
      fetchJson(`${apiBase}/compare/memory?source=live`, { signal, timeoutMs })
        .then((data) => setResult({ data, error: null }))
        .catch((error) => {
          if (error?.kind !== 'aborted') setResult((r) => ({ data: r.data, error }));
        }),
    [apiBase, timeoutMs],
  );
  useEffect(() => {
    if (!active) return undefined;
    const controller = new AbortController();
    let timer = null;
    let stopped = false;
    const tick = async () => {
      await fetchNow(controller.signal);
      if (polling && !stopped) timer = setTimeout(tick, pollMs);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [active, polling, pollMs, fetchNow]);
  return result;
}
