import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { describeError, fetchJson } from '../lib/api.js';
import { comparisonReducer, initialComparisonState } from '../lib/comparison_state.js';
import { DEFAULT_SPEC_PARAMS, SPEC_LIMITS, SPEC_METHODS, speculativeQuery } from '../lib/speculative_params.js';
import { speculativeMismatches } from '../lib/speculative_view.js';
import AcceptanceHistogram from './AcceptanceHistogram.jsx';
import NumberField from './NumberField.jsx';
import SpeculativeCards from './SpeculativeCards.jsx';
import TokenText from './TokenText.jsx';
import TokenTimeline from './TokenTimeline.jsx';
import './speculative.css';

// The server generates twice (baseline, then speculative); a large model or 512 tokens takes a while.
export const SPEC_TIMEOUT_MS = 60000;

// The "Speculative Decoding" section: controls, the button, and the results of GET /compare/speculative.
export default function SpeculativeSection({ apiBase = '', timeoutMs = SPEC_TIMEOUT_MS }) {
  const [params, setParams] = useState(DEFAULT_SPEC_PARAMS);
  // Enter in a number field commits it and submits the form in the same event, before a re-render: the
  // run reads the newest values from here, not from the render's `params`.
  const latest = useRef(DEFAULT_SPEC_PARAMS);
  const [state, dispatch] = useReducer(comparisonReducer, initialComparisonState);
  const nextId = useRef(0);
  const inFlight = useRef(null);

  useEffect(() => () => inFlight.current?.abort(), []);

  const run = useCallback(() => {
    inFlight.current?.abort();
    const controller = new AbortController();
    inFlight.current = controller;
    const id = ++nextId.current;
    const sent = latest.current;
    dispatch({ type: 'request', id });
    fetchJson(`${apiBase}/compare/speculative?${speculativeQuery(sent)}`, { signal: controller.signal, timeoutMs })
      .then((answer) => dispatch({ type: 'success', id, data: { answer, prompt: sent.prompt } }))
      .catch((error) => {
        if (error?.kind !== 'aborted') dispatch({ type: 'failure', id, error });
      });
  }, [apiBase, timeoutMs]);

  const set = (patch) => {
    latest.current = { ...latest.current, ...patch };
    setParams(latest.current);
  };
  const loading = state.status === 'loading';
  const answer = state.data?.answer ?? null;
  const error = state.status === 'error' ? describeError(state.error, 'GET /compare/speculative') : null;
  const mismatches = answer ? speculativeMismatches(answer) : [];

  return (
    <section className="spec-section" aria-labelledby="spec-title">
      <div className="section-head">
        <p className="eyebrow">Decoding</p>
        <h2 id="spec-title" className="section-title">
          Speculative Decoding
        </h2>
        <p className="lede">
          A cheap proposer drafts the next few tokens; the model checks them all in one forward pass and keeps the
          ones it would have produced itself. Greedy output is unchanged, fewer target forwards are run. The server
          generates the same text twice, without and with speculation, and reports both.
        </p>
      </div>

      <form
        className="controls panel"
        aria-label="Speculative decoding settings"
        onSubmit={(e) => {
          e.preventDefault();
          if (!loading) run();
        }}
      >
        <div className="field spec-field-full">
          <label htmlFor="spec-prompt">Prompt</label>
          <textarea
            id="spec-prompt"
            rows={3}
            value={params.prompt}
            onChange={(e) => set({ prompt: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) e.currentTarget.form?.requestSubmit();
            }}
            aria-describedby="spec-prompt-hint"
          />
          <span id="spec-prompt-hint" className="hint">
            Repetitive text gives prompt lookup (ngram) n-grams to match. Ctrl+Enter runs.
          </span>
        </div>
        <NumberField
          id="spec-max-tokens"
          label="Max new tokens"
          value={params.max_tokens}
          min={SPEC_LIMITS.max_tokens.min}
          max={SPEC_LIMITS.max_tokens.max}
          onCommit={(n) => set({ max_tokens: n })}
        />
        <div className="field">
          <label htmlFor="spec-method">Proposer</label>
          <select id="spec-method" value={params.method} onChange={(e) => set({ method: e.target.value })} aria-describedby="spec-method-hint">
            {SPEC_METHODS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
          <span id="spec-method-hint" className="hint">
            {params.method === 'draft' ? 'Needs helix serve --draft-model' : 'Matches n-grams already in the text'}
          </span>
        </div>
        <NumberField
          id="spec-tokens"
          label="Draft tokens per step (K)"
          value={params.spec_tokens}
          min={SPEC_LIMITS.spec_tokens.min}
          max={SPEC_LIMITS.spec_tokens.max}
          onCommit={(n) => set({ spec_tokens: n })}
        />
        <div className="field spec-run">
          <button type="submit" className="primary" disabled={loading} aria-describedby="spec-status">
            {loading && <span className="spinner" aria-hidden="true" />}
            Run Speculative Comparison
          </button>
        </div>
      </form>

      <p id="spec-status" className="status spec-status" role="status" aria-live="polite">
        {loading
          ? 'Generating twice: baseline, then speculative…'
          : answer && state.status === 'success'
            ? `${answer.model}: ${answer.prompt_tokens} prompt tokens, ${answer.speculative?.generated_tokens} generated`
            : ''}
      </p>

      {error && (
        <div className="error-box" role="alert" data-testid="spec-error">
          <strong>{error.title}</strong>
          <span>{error.detail}</span>
          {state.stale && <span className="muted">The figures below are from the last successful run.</span>}
        </div>
      )}

      {answer && (
        <div className={`results${state.stale ? ' stale' : ''}`} aria-busy={loading} data-testid="spec-results">
          <SpeculativeCards data={answer} />
          <TokenText data={answer} prompt={state.data.prompt} />
          <div className="two-up">
            <TokenTimeline data={answer} />
            <AcceptanceHistogram data={answer} />
          </div>
          {mismatches.length === 0 ? (
            <p className="check check-ok" data-testid="spec-check">
              ✓ The counts agree: {answer.speculative?.accepted} highlighted draft tokens = {answer.speculative?.accepted}{' '}
              accepted, the histogram adds up to the same, {answer.speculative?.generated_tokens} tokens listed.
            </p>
          ) : (
            <p className="check check-bad" role="alert" data-testid="spec-check">
              ✗ The answer disagrees with itself:{' '}
              {mismatches.map((m) => `${m.what} ${m.page} vs ${m.field} ${m.server}`).join('; ')}.
            </p>
          )}
        </div>
      )}
    </section>
  );
}
