import { formatMiB, formatPercent, plural } from '../lib/format.js';

// The live figures from GET /compare/memory?source=live: what the paged cache really holds now beside what a
// contiguous cache would reserve (max_seq_len per running sequence) for the same sequences.
export default function LiveMetricCards({ data }) {
  const idle = data.batch_size === 0;
  const cards = [
    {
      key: 'paged',
      label: 'Paged: held now',
      value: formatMiB(data.paged_memory_mb),
      note: `Actual: ${plural(data.blocks_used, 'block')} × ${data.block_size} tokens`,
    },
    {
      key: 'traditional',
      label: 'Contiguous: would reserve',
      value: formatMiB(data.traditional_memory_mb),
      note: idle
        ? 'Theoretical: no sequence running'
        : `Theoretical: ${plural(data.batch_size, 'sequence')} × ${data.max_seq_len} tokens`,
    },
    {
      key: 'saved',
      label: 'Memory saved',
      value: formatMiB(data.memory_saved_mb),
      sub: idle ? undefined : formatPercent(data.memory_saved_percent),
      note: idle ? 'nothing reserved, nothing held' : `mean ${data.sequence_length} tokens per running sequence`,
    },
    {
      key: 'utilization',
      label: 'Pool in use',
      value: formatPercent(data.utilization_percent),
      sub: `${data.blocks_used}/${data.num_blocks} blocks`,
      note: `${data.blocks_free} free of a ${formatMiB(data.pool_memory_mb)} pool`,
    },
  ];
  return (
    <ul className="cards" aria-label="Live memory figures" data-testid="live-cards">
      {cards.map((c) => (
        <li key={c.key} className={`card card-${c.key}`} data-testid={`live-card-${c.key}`}>
          <span className="card-label">{c.label}</span>
          <span className="card-value" data-testid={`live-${c.key}-value`}>
            {c.value}
          </span>
          {c.sub && (
            <span className="card-sub" data-testid={`live-${c.key}-sub`}>
              {c.sub}
            </span>
          )}
          <span className="card-note" data-testid={`live-${c.key}-note`}>
            {c.note}
          </span>
        </li>
      ))}
    </ul>
  );
}
