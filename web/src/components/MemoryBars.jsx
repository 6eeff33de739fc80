// Reserved vs used token slots, both schemes on one scale (the traditional reservation = 100 %).

function pct(part, whole) {
  return whole > 0 ? (100 * part) / whole : 0;
}

export default function MemoryBars({ data }) {
  const reserved = data.max_seq_len * data.batch_size;
  const used = data.sequence_length * data.batch_size;
  const wasted = data.traditional_wasted_tokens;
  const pagedReserved = data.blocks_used * data.block_size;
  const pagedWasted = data.paged_wasted_tokens;
  // Rounding up to whole blocks can exceed a short max_seq_len: then the paged side sets the scale.
  const scale = Math.max(reserved, pagedReserved);
  return (
    <div className="panel bars" aria-labelledby="bars-title">
      <h2 id="bars-title">Reserved vs used</h2>

      <div className="bar-block" data-testid="traditional-bar">
        <div className="bar-head">
          <span className="bar-name">Traditional</span>
          <span className="muted">
            {reserved} tokens reserved ({data.max_seq_len} per sequence)
          </span>
        </div>
        <div
          className="bar"
          role="img"
          aria-label={`Traditional cache: ${used} of ${reserved} reserved tokens used, ${wasted} wasted`}
        >
          <span className="seg seg-used" style={{ width: `${pct(used, scale)}%` }} />
          <span className="seg seg-wasted" style={{ width: `${pct(wasted, scale)}%` }} />
        </div>
        <div className="bar-legend">
          <span>
            <i className="swatch swatch-used" aria-hidden="true" />
            Used: {used} tokens
          </span>
          <span>
            <i className="swatch swatch-wasted" aria-hidden="true" />
            Wasted: {wasted} tokens
          </span>
        </div>
      </div>

      <div className="bar-block" data-testid="paged-bar">
        <div className="bar-head">
          <span className="bar-name">PagedAttention</span>
          <span className="muted">
            {pagedReserved} tokens in {data.blocks_used} blocks
          </span>
        </div>
        <div
          className="bar"
          role="img"
          aria-label={`Paged cache: ${used} of ${pagedReserved} token slots used, ${pagedWasted} empty in last blocks`}
        >
          <span className="seg seg-paged" style={{ width: `${pct(used, scale)}%` }} />
          <span className="seg seg-wasted" style={{ width: `${pct(pagedWasted, scale)}%` }} />
        </div>
        <div className="bar-legend">
          <span>
            <i className="swatch swatch-paged" aria-hidden="true" />
            Used: {used} tokens
          </span>
          <span>
            <i className="swatch swatch-wasted" aria-hidden="true" />
            Wasted: {pagedWasted} tokens
          </span>
          <span className="muted">The rest is never taken: it stays free in the pool.</span>
        </div>
      </div>
    </div>
  );
}
