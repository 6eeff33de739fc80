import { tokenSpans } from '../lib/speculative_view.js';

// The speculative run's text, one span per token: accepted drafts highlighted, target tokens underlined.
export default function TokenText({ data, prompt }) {
  const spans = tokenSpans(data.tokens);
  const drafts = spans.filter((s) => s.source === 'draft').length;
  return (
    <div className="panel spec-text-panel" aria-labelledby="spec-text-title">
      <div className="spec-text-head">
        <h2 id="spec-text-title">Generated text</h2>
        <p className={`spec-identical ${data.identical ? 'check-ok' : 'check-bad'}`} data-testid="spec-identical">
          Greedy output identical: {data.identical ? 'yes' : 'no'}
        </p>
      </div>
      <div className="chart-legend spec-legend">
        <span>
          <i className="swatch swatch-draft" aria-hidden="true" />
          Accepted draft token ({drafts})
        </span>
        <span>
          <i className="swatch swatch-target" aria-hidden="true" />
          Target token: first, correction or bonus ({spans.length - drafts})
        </span>
      </div>
      <p className="spec-text" data-testid="spec-text">
        {prompt && (
          <span className="spec-prompt" title={`Prompt (${data.prompt_tokens} tokens)`}>
            {prompt}
          </span>
        )}
        {spans.map((s) => (
          <span key={s.index} className={`tok tok-${s.source}`} data-source={s.source} data-token-id={s.id} title={s.title}>
            {s.display}
          </span>
        ))}
      </p>
      <p className="muted spec-panel-note">Hover a token for its id, source and arrival times.</p>
    </div>
  );
}
