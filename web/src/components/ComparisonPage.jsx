import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { describeError, fetchJson, normalizePresets } from '../lib/api.js';
import { computedBlockMap } from '../lib/block_map.js';
import { comparisonReducer, initialComparisonState } from '../lib/comparison_state.js';
import { useModelLoaded } from '../lib/live_hooks.js';
import { compareQuery, DEFAULT_PARAMS, normalizeParams } from '../lib/params.js';
import BlockGrid from './BlockGrid.jsx';
import CapacityPanel from './CapacityPanel.jsx';
import Controls from './Controls.jsx';
import Explanation from './Explanation.jsx';
import LiveMemory from './LiveMemory.jsx';
import MemoryBars from './MemoryBars.jsx';
import MemoryChart from './MemoryChart.jsx';
import MemoryModeToggle from './MemoryModeToggle.jsx';
import MetricCards from './MetricCards.jsx';

export const RECALC_DEBOUNCE_MS = 250;

// The "Memory Efficiency: PagedAttention" section: controls, the button, and the results of
// GET /compare/memory. Once shown, every control change recalculates (debounced).
export default function ComparisonPage({ apiBase = '', timeoutMs, debounceMs = RECALC_DEBOUNCE_MS }) {
  const [params, setParams] = useState(DEFAULT_PARAMS);
  const [presets, setPresets] = useState({ status: 'loading', list: [], error: null });
  const [shown, setShown] = useState(false);
  const [state, dispatch] = useReducer(comparisonReducer, initialComparisonState);
  // Live mode (the engine's own block map) exists only when the server runs a model; computed is the default.
  const modelLoaded = useModelLoaded(apiBase, timeoutMs);
  const [mode, setMode] = useState('computed');
  const live = modelLoaded === true && mode === 'live';
  const nextId = useRef(0);
  const inFlight = useRef(null);
  const lastQuery = useRef(null);

  useEffect(() => {
    const controller = new AbortController();
    fetchJson(`${apiBase}/models/presets`, { signal: controller.signal, timeoutMs })
      .then((body) => {
        const { presets: list, defaultName } = normalizePresets(body);
        setPresets({ status: 'ready', list, error: null });
        if (defaultName && list.some((p) => p.name === defaultName))
          setParams((p) => (p === DEFAULT_PARAMS ? { ...p, model: defaultName } : p));
      })
      .catch((error) => {
        if (error?.kind !== 'aborted') setPresets({ status: 'error', list: [], error });
      });
    return () => controller.abort();
  }, [apiBase, timeoutMs]);

  const run = useCallback(
    (p) => {
      inFlight.current?.abort();
      const controller = new AbortController();
      inFlight.current = controller;
      const id = ++nextId.current;
      const query = compareQuery(p);
      lastQuery.current = query;
      dispatch({ type: 'request', id });
      fetchJson(`${apiBase}/compare/memory?${query}`, { signal: controller.signal, timeoutMs })
        .then((data) => dispatch({ type: 'success', id, data }))
        .catch((error) => {
          if (error?.kind !== 'aborted') dispatch({ type: 'failure', id, error });
        });
    },
    [apiBase, timeoutMs],
  );

  useEffect(() => () => inFlight.current?.abort(), []);

  // Instant recalculation: after the first "Show", a control change refetches once input settles.
  useEffect(() => {
    if (!shown || compareQuery(params) === lastQuery.current) return undefined;
    const timer = setTimeout(() => run(params), debounceMs);
    return () => clearTimeout(timer);
  }, [params, shown, run, debounceMs]);

  const preset = presets.list.find((p) => p.name === params.model) ?? null;
  const onChange = useCallback(
    (patch) =>
      setParams((p) => {
        const next = { ...p, ...patch };
        const context = presets.list.find((x) => x.name === next.model)?.context_length;
        return normalizeParams(next, context);
      }),
    [presets.list],
  );

  const onShow = () => {
    setShown(true);
    run(params);
  };

  const data = state.data;
  const blockMap = useMemo(() => (data ? computedBlockMap(data) : null), [data]);
  const loading = state.status === 'loading';
  const error = state.status === 'error' ? describeError(state.error, 'GET /compare/memory') : null;
  const presetsError = presets.status === 'error' ? describeError(presets.error, 'GET /models/presets') : null;

  return (
    <section className="comparison" aria-labelledby="comparison-title">
      <div className="section-head">
        <p className="eyebrow">KV cache</p>
        <h1 id="comparison-title">Memory Efficiency: PagedAttention</h1>
        <p className="lede">
          A contiguous KV cache reserves room for the longest sequence up front. PagedAttention hands out
          fixed-size blocks as tokens arrive. Same model, same sequence, exact bytes from the server.
        </p>
      </div>

      {modelLoaded === true && <MemoryModeToggle mode={mode} onChange={setMode} />}

      {live && <LiveMemory apiBase={apiBase} timeoutMs={timeoutMs} />}

      {!live && (
        <>
          <Controls
            params={params}
            onChange={onChange}
            presets={presets.list}
            presetsStatus={presets.status}
            presetsError={presetsError}
            preset={preset}
            onReset={() => setParams(DEFAULT_PARAMS)}
          />

          <div className="actions">
            <button type="button" className="primary" onClick={onShow} aria-describedby="comparison-status">
              {loading && <span className="spinner" aria-hidden="true" />}
              Show Memory Comparison
            </button>
            <p id="comparison-status" className="status" role="status" aria-live="polite">
              {loading ? 'Calculating…' : state.status === 'success' ? `Updated for ${data.sequence_length} tokens` : ''}
            </p>
          </div>

          {error && (
            <div className="error-box" role="alert" data-testid="comparison-error">
              <strong>{error.title}</strong>
              <span>{error.detail}</span>
              {state.stale && <span className="muted">The figures below are from the last successful request.</span>}
            </div>
          )}

          {data && (
            <div className={`results${state.stale ? ' stale' : ''}`} aria-busy={loading} data-testid="results">
              <MetricCards data={data} />
              <MemoryBars data={data} />
              <BlockGrid blockMap={blockMap} />
              <div className="two-up">
                <MemoryChart data={data} />
                <CapacityPanel data={data} />
              </div>
              <Explanation data={data} />
            </div>
          )}
        </>
      )}
    </section>
  );
}
