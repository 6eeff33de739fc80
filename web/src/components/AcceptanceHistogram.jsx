import { histogramBars, histogramTotals } from '../lib/speculative_view.js';
import { plural } from '../lib/format.js';

// How many drafts each verification step kept (0..K), and the target forwards that saved.
export default function AcceptanceHistogram({ data }) {
  const bars = histogramBars(data.accepted_histogram);
  const { steps } = histogramTotals(data.accepted_histogram);
  return (
    <div className="panel spec-histogram" aria-labelledby="spec-histogram-title">
      <h2 id="spec-histogram-title">Drafts kept per verification step</h2>
      <p className="muted spec-panel-note">
        {plural(steps, 'verification step')}, each checking up to {data.spec_tokens} drafted tokens in one target forward.
      </p>
      <ol className="spec-bars" aria-label="Verification steps by drafts kept" data-testid="spec-histogram">
        {bars.map((b) => (
          <li key={b.n} className="spec-bar-col" data-testid={`spec-histogram-${b.n}`} data-count={b.count}>
            <span className="spec-bar-count">{b.count}</span>
            <span className="spec-bar-track" aria-hidden="true">
              <span className="spec-bar-fill" style={{ height: `${(b.fraction * 100).toFixed(1)}%` }} />
            </span>
            <span className="spec-bar-label">
              <span className="spec-sr-only">{plural(b.count, 'step')} kept </span>
              {b.n}
            </span>
          </li>
        ))}
      </ol>
      <p className="spec-axis-note muted">drafts kept (0–{data.spec_tokens})</p>
      <dl className="spec-saved">
        <dt>Target forwards saved</dt>
        <dd data-testid="spec-forwards-saved">{data.forwards_saved}</dd>
        <dd className="muted">
          {data.baseline?.target_forwards} baseline − {data.speculative?.target_forwards} speculative
        </dd>
      </dl>
    </div>
  );
}
