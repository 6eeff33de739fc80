import { useRef } from 'react';
import { linearScale, niceTicks } from '../lib/chart_scale.js';
import { useElementWidth } from '../lib/hooks.js';
import { formatMs, timelineSeries } from '../lib/speculative_view.js';

const HEIGHT = 260;
const MARGIN = { top: 30, right: 16, bottom: 40, left: 52 };

// When each token arrived (ms since submit) in both runs. Speculative tokens arrive in bursts: every
// draft a verification step keeps lands together with that step's target token.
export default function TokenTimeline({ data }) {
  const ref = useRef(null);
  const width = Math.max(280, useElementWidth(ref, 560));
  const series = timelineSeries(data.tokens);
  const n = Math.max(1, series.count);
  const yTicks = niceTicks(series.maxMs || 1, 4);
  const xTicks = niceTicks(n, width < 420 ? 3 : 6).ticks.filter((t) => t >= 1 && t <= n);
  const x = linearScale(1, Math.max(2, n), MARGIN.left, width - MARGIN.right);
  const y = linearScale(0, yTicks.top, HEIGHT - MARGIN.bottom, MARGIN.top);
  const pathOf = (points) => points.map(([i, ms], k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(ms).toFixed(1)}`).join('');
  const lastB = series.baseline.at(-1);
  const lastS = series.speculative.at(-1);
  const summary =
    `Arrival time of each of ${series.count} tokens: the baseline reaches the last token at ` +
    `${lastB ? formatMs(lastB[1]) : '–'}, speculative decoding at ${lastS ? formatMs(lastS[1]) : '–'}.`;

  return (
    <div className="panel chart-panel" aria-labelledby="spec-timeline-title">
      <h2 id="spec-timeline-title">Per-token timeline</h2>
      <div ref={ref} className="chart-wrap">
        <svg width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} role="img" aria-label={summary} data-testid="spec-timeline">
          <defs>
            <linearGradient id="spec-stroke" x1="0" x2="1" y1="0" y2="0">
              <stop offset="0" stopColor="#a855f7" />
              <stop offset="1" stopColor="#ec4899" />
            </linearGradient>
          </defs>
          {yTicks.ticks.map((t) => (
            <g key={`y${t}`}>
              <line className="grid-line" x1={MARGIN.left} x2={width - MARGIN.right} y1={y(t)} y2={y(t)} />
              <text className="tick" x={MARGIN.left - 8} y={y(t)} textAnchor="end" dominantBaseline="middle">
                {t}
              </text>
            </g>
          ))}
          {xTicks.map((t) => (
            <text key={`x${t}`} className="tick" x={x(t)} y={HEIGHT - MARGIN.bottom + 16} textAnchor="middle">
              {t}
            </text>
          ))}
          <text className="axis-title" x={(MARGIN.left + width - MARGIN.right) / 2} y={HEIGHT - 4} textAnchor="middle">
            token
          </text>
          <text className="axis-title" x={MARGIN.left - 8} y={12} textAnchor="end">
            ms
          </text>
          <path className="line-traditional" d={pathOf(series.baseline)} data-testid="spec-line-baseline" />
          <path className="line-paged" d={pathOf(series.speculative)} stroke="url(#spec-stroke)" data-testid="spec-line-speculative" />
          {lastB && <circle className="dot-traditional" cx={x(lastB[0])} cy={y(lastB[1])} r={4} />}
          {lastS && <circle className="dot-paged" cx={x(lastS[0])} cy={y(lastS[1])} r={4} />}
        </svg>
      </div>
      <div className="chart-legend">
        <span>
          <i className="swatch swatch-used" aria-hidden="true" />
          Baseline: last token at {lastB ? formatMs(lastB[1]) : '–'}
        </span>
        <span>
          <i className="swatch swatch-paged" aria-hidden="true" />
          Speculative: last token at {lastS ? formatMs(lastS[1]) : '–'}
        </span>
      </div>
      <p className="muted spec-panel-note">
        Wall-clock times on the server, from submit. A small model decodes a token in a fraction of a millisecond, so
        they vary from run to run; the target forwards saved do not.
      </p>
    </div>
  );
}
