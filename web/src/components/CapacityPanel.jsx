import { formatMiB } from '../lib/format.js';

// The real benefit: how many sequences of this length the same pool holds under each scheme.
export default function CapacityPanel({ data }) {
  const trad = data.sequences_fit_traditional;
  const paged = data.sequences_fit_paged;
  const top = Math.max(trad, paged, 1);
  const ratio = trad > 0 ? paged / trad : null;
  const perSequence = Math.ceil(data.sequence_length / data.block_size);
  return (
    <div className="panel capacity" aria-labelledby="capacity-title">
      <h2 id="capacity-title">Sequences that fit in this pool</h2>
      <p className="muted">
        {formatMiB(data.pool_memory_mb)} pool: {data.num_blocks} blocks × {data.block_size} tokens ={' '}
        {data.pool_tokens} token slots. Sequences of {data.sequence_length} tokens:
      </p>
      <dl className="capacity-rows">
        <div className="capacity-row">
          <dt>Traditional</dt>
          <dd>
            <span className="capacity-bar">
              <span className="seg seg-used" style={{ width: `${(100 * trad) / top}%` }} />
            </span>
            <strong data-testid="fit-traditional">{trad}</strong>
          </dd>
        </div>
        <div className="capacity-row">
          <dt>PagedAttention</dt>
          <dd>
            <span className="capacity-bar">
              <span className="seg seg-paged" style={{ width: `${(100 * paged) / top}%` }} />
            </span>
            <strong data-testid="fit-paged">{paged}</strong>
          </dd>
        </div>
      </dl>
      <p className="capacity-verdict">
        {trad === 0
          ? `Pre-allocating ${data.max_seq_len} tokens does not fit a single sequence in this pool; paging fits ${paged}.`
          : ratio === 1
            ? 'Both schemes fit the same number of sequences here.'
            : `Paging fits ${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1).replace(/\.0$/, '')}× as many sequences: ` +
              `each takes ${perSequence} blocks (${perSequence * data.block_size} token slots) instead of reserving ` +
              `${data.max_seq_len}.`}
      </p>
    </div>
  );
}
