import { formatMiB, formatPercent, plural } from '../lib/format.js';

// How it works, in three columns, with the numbers on screen.
export default function Explanation({ data }) {
  const bs = data.block_size;
  const perSequence = Math.ceil(data.sequence_length / bs);
  const tail = perSequence * bs - data.sequence_length;
  const lastToken = data.sequence_length - 1;
  return (
    <div className="explain" aria-label="How PagedAttention works">
      <article className="panel">
        <h3>Block allocation</h3>
        <p>
          The pool is cut into {data.num_blocks} blocks of {bs} tokens. A sequence takes a block only when its
          tokens need one: {data.sequence_length} tokens take ⌈{data.sequence_length} / {bs}⌉ ={' '}
          {plural(perSequence, 'block')}
          {data.batch_size > 1 ? `, ${data.blocks_used} for all ${data.batch_size} sequences` : ''}.{' '}
          {tail === 0
            ? 'The last block is full, so no slot is wasted.'
            : `The last block has ${plural(tail, 'empty slot')}.`}{' '}
          {data.blocks_free} blocks stay free for other requests.
        </p>
      </article>
      <article className="panel">
        <h3>Block table mapping</h3>
        <p>
          Each sequence keeps a block table: entry i names the physical block holding its tokens i×{bs} to
          i×{bs}+{bs - 1}. Token t is found in block table[⌊t / {bs}⌋], slot t mod {bs}, so a sequence's blocks
          need not sit side by side. Token {lastToken} lives in entry {Math.floor(lastToken / bs)}, slot{' '}
          {lastToken % bs}.
        </p>
      </article>
      <article className="panel">
        <h3>Memory efficiency</h3>
        <p>
          A contiguous cache reserves {data.max_seq_len} tokens per sequence up front:{' '}
          {formatMiB(data.traditional_memory_mb)}, of which {data.traditional_wasted_tokens} token slots hold nothing.
          Paging holds {formatMiB(data.paged_memory_mb)}, saving {formatMiB(data.memory_saved_mb)} (
          {formatPercent(data.memory_saved_percent)}); its waste is at most {bs - 1} slots per sequence. At{' '}
          {data.kv_bytes_per_token} bytes per token ({data.kv_dtype}), that is what lets more sequences run at once.
        </p>
      </article>
    </div>
  );
}
