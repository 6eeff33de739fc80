import { speculativeCards } from '../lib/speculative_view.js';

// Baseline vs speculative tokens/s, speedup and acceptance: four cards fading in 0.1 s apart.
export default function SpeculativeCards({ data }) {
  return (
    <ul className="cards" aria-label="Speculative decoding figures">
      {speculativeCards(data).map((c, i) => (
        <li
          key={c.key}
          className={`card card-spec-${c.key}`}
          style={{ animationDelay: `${(i + 1) / 10}s` }}
          data-testid={`spec-card-${c.key}`}
        >
          <span className="card-label">{c.label}</span>
          <span className="card-value" data-testid={`spec-${c.key}-value`}>
            {c.value}
            {c.unit && <span className="card-unit"> {c.unit}</span>}
          </span>
          {c.sub && (
            <span className="card-sub" data-testid={`spec-${c.key}-sub`}>
              {c.sub}
            </span>
          )}
          <span className="card-note" data-testid={`spec-${c.key}-note`}>
            {c.note}
          </span>
        </li>
      ))}
    </ul>
  );
}
