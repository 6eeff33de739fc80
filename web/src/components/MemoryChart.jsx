import { useMemo, useRef } from 'react';
import { linearScale, niceTicks } from '../lib/chart_scale.js';
import { BYTES_PER_MIB, formatAxisMiB, formatBytesAsMiB, formatGrouped } from '../lib/format.js';
import { useElementWidth } from '../lib/hooks.js';
import { compareMemoryFromApi, memoryCurves, mismatchesWithApi } from '../lib/memory_math.js';

const HEIGHT = 260;
const MARGIN = { top: 30, right: 16, bottom: 40, left: 52 };

// KV memory against sequence length for both schemes, drawn from the exact formulas (client side), with
// the current point marked and checked against the server's answer.
export default function MemoryChart({ data }) {
  const ref = useRef(null);
  const width = Math.max(280, useElementWidth(ref, 560));
  const params = {
    perTokenBytes: data.kv_bytes_per_token,
    maxSeqLen: data.max_seq_len,
    blockSize: data.block_size,
    batchSize: data.batch_size,
  };
  const curves = useMemo(
    () => memoryCurves(params),
    [data.kv_bytes_per_token, data.max_seq_len, data.block_size, data.batch_size],
  );
  const mine = compareMemoryFromApi(data);
  const mismatches = mismatchesWithApi(data);

  const yTicks = niceTicks(curves.maxBytes / BYTES_PER_MIB, 4);
  const xTicks = niceTicks(data.max_seq_len, width < 420 ? 3 : 5).ticks.filter((t) => t <= data.max_seq_len);
  const x = linearScale(0, data.max_seq_len, MARGIN.left, width - MARGIN.right);
  const y = linearScale(0, yTicks.top, HEIGHT - MARGIN.bottom, MARGIN.top);
  const pathOf = (points) =>
    points.map(([len, bytes], i) => `${i ? 'L' : 'M'}${x(len).toFixed(1)},${y(bytes / BYTES_PER_MIB).toFixed(1)}`).join('');
  const cx = x(data.sequence_length);

  const summary =
    `KV memory against sequence length, 1 to ${data.max_seq_len} tokens: traditional stays at ` +
    `${formatBytesAsMiB(mine.traditional_bytes)}; paged grows one block at a time, ` +
    `${formatBytesAsMiB(mine.paged_bytes)} at ${data.sequence_length} tokens.`;

  return (
    <div className="panel chart-panel" aria-labelledby="chart-title">
      <h2 id="chart-title">Memory vs sequence length</h2>
      <div ref={ref} className="chart-wrap">
        <svg
          width={width}
          height={HEIGHT}
          viewBox={`0 0 ${width} ${HEIGHT}`}
          role="img"
          aria-label={summary}
          data-testid="memory-chart"
        >
          <defs>
            <linearGradient id="paged-stroke" x1="0" x2="1" y1="0" y2="0">
              <stop offset="0" stopColor="#a855f7" />
              <stop offset="1" stopColor="#ec4899" />
            </linearGradient>
          </defs>
          {yTicks.ticks.map((t) => (
            <g key={`y${t}`}>
              <line className="grid-line" x1={MARGIN.left} x2={width - MARGIN.right} y1={y(t)} y2={y(t)} />
              <text className="tick" x={MARGIN.left - 8} y={y(t)} textAnchor="end" dominantBaseline="middle">
                {formatAxisMiB(t)}
              </text>
            </g>
          ))}
          {xTicks.map((t) => (
            <text key={`x${t}`} className="tick" x={x(t)} y={HEIGHT - MARGIN.bottom + 16} textAnchor="middle">
              {t}
            </text>
          ))}
          <text className="axis-title" x={(MARGIN.left + width - MARGIN.right) / 2} y={HEIGHT - 4} textAnchor="middle">
            sequence length (tokens)
          </text>
          <text className="axis-title" x={MARGIN.left - 8} y={12} textAnchor="end">
            MiB
          </text>
          <path className="line-traditional" d={pathOf(curves.traditional)} />
          <path className="line-paged" d={pathOf(curves.paged)} stroke="url(#paged-stroke)" />
          <line className="cursor" x1={cx} x2={cx} y1={MARGIN.top} y2={HEIGHT - MARGIN.bottom} />
          <circle className="dot-traditional" cx={cx} cy={y(mine.traditional_bytes / BYTES_PER_MIB)} r={5} />
          <circle className="dot-paged" cx={cx} cy={y(mine.paged_bytes / BYTES_PER_MIB)} r={5} />
        </svg>
      </div>
      <div className="chart-legend">
        <span>
          <i className="swatch swatch-used" aria-hidden="true" />
          Traditional (reserves {data.max_seq_len} tokens)
        </span>
        <span>
          <i className="swatch swatch-paged" aria-hidden="true" />
          PagedAttention (blocks of {data.block_size})
        </span>
      </div>
      {mismatches.length === 0 ? (
        <p className="check check-ok" data-testid="formula-check">
          ✓ At {data.sequence_length} tokens the page's formulas give {formatGrouped(mine.traditional_bytes)} B
          traditional and {formatGrouped(mine.paged_bytes)} B paged, the same as the server.
        </p>
      ) : (
        <p className="check check-bad" role="alert" data-testid="formula-check">
          ✗ The page's formulas disagree with the server on{' '}
          {mismatches.map((m) => `${m.field} (page ${m.client}, server ${m.server})`).join(', ')}.
        </p>
      )}
    </div>
  );
}
