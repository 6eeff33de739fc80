import { formatMiB, formatPercent, plural } from '../lib/format.js';

// Four cards that fade in one after another (0.1 s apart).
export default function MetricCards({ data }) {
  const reservedTokens = data.max_seq_len * data.batch_size;
  const cards = [
    {
      key: 'traditional',
      label: 'Traditional cache',
      value: formatMiB(data.traditional_memory_mb),
      note: `Pre-allocated: ${reservedTokens} tokens reserved`,
    },
    {
      key: 'paged',
      label: 'PagedAttention',
      value: formatMiB(data.paged_memory_mb),
      note: `On-demand: ${plural(data.blocks_used, 'block')} × ${data.block_size} tokens`,
    },
    {
      key: 'saved',
      label: 'Memory saved',
      value: formatMiB(data.memory_saved_mb),
      sub: formatPercent(data.memory_saved_percent),
      note: 'of the pre-allocated cache',
    },
    {
      key: 'utilization',
      label: 'Block utilization',
      value: formatPercent(data.utilization_percent),
      sub: `${data.blocks_used}/${data.num_blocks} blocks`,
      note: `${data.blocks_free} blocks free for other sequences`,
    },
  ];
  return (
    <ul className="cards" aria-label="Memory figures">
      {cards.map((c, i) => (
        <li
          key={c.key}
          className={`card card-${c.key}`}
          style={{ animationDelay: `${(i + 1) / 10}s` }}
          data-testid={`card-${c.key}`}
        >
          <span className="card-label">{c.label}</span>
          <span className="card-value" data-testid={`${c.key}-value`}>
            {c.value}
          </span>
          {c.sub && (
            <span className="card-sub" data-testid={`${c.key}-sub`}>
              {c.sub}
            </span>
          )}
          <span className="card-note" data-testid={`${c.key}-note`}>
            {c.note}
          </span>
        </li>
      ))}
    </ul>
  );
}
