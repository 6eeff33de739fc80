// The engine's block map, kept live: start from a GET /kv/blocks snapshot, then apply /kv/events one by one.
//
// LiveKv = { blockSize, numBlocks,
//            blocks: { owners: number[] (ascending seq ids), cached: bool, fill: number | null }[]  (by block id),
//            seqs: { [seq]: number[] }  (each sequence's block table, in order),
//            seqTokens: { [seq]: number }  (tokens held, known from a snapshot until the table changes),
//            usedBlocks, peakUsedBlocks, counts: { events, allocated, freed, prefixHits, preempted, evicted } }
//
// A block's ref count is the number of tables holding it (the engine's invariant), so it is kept as the
// owners list alone. Events are applied idempotently (an allocate of a block the sequence already holds, or
// a free of one it does not, changes nothing): events that arrive between subscribing and the snapshot are
// already in the snapshot, and replaying them must not double-count.

export const EMPTY_COUNTS = Object.freeze({ events: 0, allocated: 0, freed: 0, prefixHits: 0, preempted: 0, evicted: 0 });

export function fromSnapshot(snap, previous = null) {
  const blockSize = Number(snap.block_size) || 0;
  const numBlocks = Number(snap.num_blocks) || 0;
  const blocks = [];
  for (let id = 0; id < numBlocks; ++id) {
    const b = snap.blocks?.[id];
    const owners = Array.isArray(b?.owners) ? [...b.owners].sort((x, y) => x - y) : [];
    blocks.push({ owners, cached: Boolean(b?.cached), fill: owners.length > 0 || b?.cached ? (b?.tokens_filled ?? null) : null });
  }
  const seqs = {};
  const seqTokens = {};
  for (const q of snap.sequences ?? []) {
    if (!Array.isArray(q.block_ids) || q.block_ids.length === 0) continue;
    seqs[q.seq] = [...q.block_ids];
    seqTokens[q.seq] = q.num_tokens;
  }
  const usedBlocks = blocks.reduce((n, b) => n + (b.owners.length > 0 ? 1 : 0), 0);
  const samePool = previous && previous.numBlocks === numBlocks && previous.blockSize === blockSize;
  return {
    blockSize,
    numBlocks,
    blocks,
    seqs,
    seqTokens,
    usedBlocks,
    peakUsedBlocks: Math.max(usedBlocks, samePool ? previous.peakUsedBlocks : 0),
    counts: samePool ? previous.counts : { ...EMPTY_COUNTS },
  };
}

const addOwner = (owners, seq) => (owners.includes(seq) ? owners : [...owners, seq].sort((x, y) => x - y));
const removeOwner = (owners, seq) => owners.filter((s) => s !== seq);

// Applies events in order; returns a new LiveKv (the input is not changed). Unknown event types and block
// ids outside the pool are ignored. A "dropped" event cannot be applied: the caller re-fetches the snapshot.
export function applyEvents(state, events) {
  const blocks = [...state.blocks];
  const seqs = { ...state.seqs };
  const seqTokens = { ...state.seqTokens };
  const counts = { ...state.counts };
  let usedBlocks = state.usedBlocks;
  let peakUsedBlocks = state.peakUsedBlocks;
  const valid = (b) => Number.isInteger(b) && b >= 0 && b < blocks.length;
  const table = (seq) => seqs[seq] ?? [];

  const setOwners = (id, owners) => {
    const before = blocks[id].owners.length > 0;
    const after = owners.length > 0;
    blocks[id] = { ...blocks[id], owners };
    usedBlocks += (after ? 1 : 0) - (before ? 1 : 0);
  };
  const take = (seq, id, fresh) => {
    if (blocks[id].owners.includes(seq)) return false;
    setOwners(id, addOwner(blocks[id].owners, seq));
    if (fresh) blocks[id] = { ...blocks[id], cached: false, fill: null };
    seqs[seq] = [...table(seq), id];
    delete seqTokens[seq];
    return true;
  };
  const release = (seq, id) => {
    if (!blocks[id].owners.includes(seq)) return false;
    setOwners(id, removeOwner(blocks[id].owners, seq));
    const rest = table(seq).filter((b) => b !== id);
    if (rest.length > 0) seqs[seq] = rest;
    else delete seqs[seq];
    delete seqTokens[seq];
    return true;
  };

  for (const ev of events) {
    counts.events += 1;
    const seq = ev.seq;
    const ids = Array.isArray(ev.blocks) ? ev.blocks.filter(valid) : [];
    switch (ev.type) {
      case 'allocate':
        // New blocks come from the free queue: whatever they held before is gone (the engine sends an evict
        // first; a missed one must not leave the block marked cached).
        for (const id of ids) if (take(seq, id, true)) ++counts.allocated;
        break;
      case 'prefix_hit':
        for (const id of ids) if (take(seq, id, false)) ++counts.prefixHits;
        break;
      case 'fork':
        for (const id of ids) take(seq, id, false);
        break;
      case 'cow': {
        const [from, to] = ids;
        if (from === undefined || to === undefined || !blocks[from].owners.includes(seq)) break;
        setOwners(from, removeOwner(blocks[from].owners, seq));
        setOwners(to, addOwner(blocks[to].owners, seq));
        blocks[to] = { ...blocks[to], cached: false, fill: blocks[from].fill };
        seqs[seq] = table(seq).map((b) => (b === from ? to : b));
        ++counts.allocated;
        break;
      }
      case 'free':
        for (const id of ids) if (release(seq, id)) ++counts.freed;
        break;
      case 'cache':
        for (const id of ids) blocks[id] = { ...blocks[id], cached: true, fill: state.blockSize };
        break;
      case 'evict':
        for (const id of ids) {
          blocks[id] = { ...blocks[id], cached: false, fill: blocks[id].owners.length > 0 ? blocks[id].fill : null };
          ++counts.evicted;
        }
        break;
      case 'preempt':
        ++counts.preempted;  // the blocks themselves go with the free event that follows
        break;
      default:
        break;
    }
    peakUsedBlocks = Math.max(peakUsedBlocks, usedBlocks);
  }
  return { ...state, blocks, seqs, seqTokens, usedBlocks, peakUsedBlocks, counts };
}

// Forgets the peak and the counters (a new burst starts from what is held now).
export function resetPeak(state) {
  return { ...state, peakUsedBlocks: state.usedBlocks, counts: { ...EMPTY_COUNTS } };
}

// Twelve colours far apart on the wheel, readable on the dark page; sequence s gets PALETTE[s mod 12], so a
// sequence keeps its colour for its whole life whatever else comes and goes.
export const SEQ_PALETTE = [
  '#a855f7', '#22d3ee', '#f472b6', '#84cc16', '#f59e0b', '#60a5fa',
  '#ef4444', '#2dd4bf', '#e879f9', '#facc15', '#818cf8', '#fb923c',
];

export function seqColor(seq) {
  const n = SEQ_PALETTE.length;
  return SEQ_PALETTE[((Math.trunc(Number(seq)) % n) + n) % n];
}

// The BlockMap the grid draws (see block_map.js), with the engine's extras: owners, refCount, cached, and
// a colour per sequence (a shared block takes its lowest owner's colour and a ring).
export function liveBlockMap(state) {
  const position = new Map(); // block id -> index in its lowest owner's table
  for (const [seq, ids] of Object.entries(state.seqs))
    ids.forEach((id, index) => {
      const owner = state.blocks[id]?.owners[0];
      if (owner !== undefined && String(owner) === seq) position.set(id, index);
    });
  const blocks = state.blocks.map((b, id) => {
    const block = liveBlock(state, b, id, position.get(id) ?? 0);
    return { ...block, title: liveBlockTitle(block) };
  });
  return {
    source: 'engine',
    blockSize: state.blockSize,
    numBlocks: state.numBlocks,
    blocks,
    sequences: Object.keys(state.seqs).length,
  };
}

function liveBlock(state, b, id, index) {
  const bs = state.blockSize;
  const refCount = b.owners.length;
  if (refCount === 0)
    return {
      id,
      state: 'free',
      sequence: null,
      owners: [],
      refCount: 0,
      cached: b.cached,
      shared: false,
      firstToken: null,
      lastToken: null,
      tokens: 0,
    };
  const sequence = b.owners[0];
  const firstToken = index * bs;
  const isLast = index === (state.seqs[sequence]?.length ?? 0) - 1;
  const known = state.seqTokens[sequence];
  // Blocks before the last are full; the last one's fill is known from a snapshot, not from events.
  let tokens = isLast ? b.fill : bs;
  if (isLast && known !== undefined) tokens = Math.max(0, Math.min(bs, known - firstToken));
  return {
    id,
    state: 'used',
    sequence,
    owners: b.owners,
    refCount,
    cached: b.cached,
    shared: refCount > 1,
    firstToken,
    lastToken: firstToken + (tokens ?? bs) - 1,
    tokens, // null: the last block of a sequence whose length the events do not say
    color: seqColor(sequence),
  };
}

// Tooltip of one live block, e.g. "Block 7: sequence 3, tokens 16–31 · ref count 2, shared by sequences 3, 5
// · cached prefix" or "Block 9: free · cached prefix (reusable until evicted)".
export function liveBlockTitle(block) {
  if (block.state !== 'used') return `Block ${block.id}: free${block.cached ? ' · cached prefix (reusable until evicted)' : ''}`;
  const range =
    block.tokens === null ? `tokens from ${block.firstToken} (last block, filling)` : `tokens ${block.firstToken}–${block.lastToken}`;
  let text = `Block ${block.id}: sequence ${block.sequence}, ${range} · ref count ${block.refCount}`;
  if (block.refCount > 1) {
    const shown = block.owners.slice(0, 8).join(', ');
    const more = block.owners.length > 8 ? ` and ${block.owners.length - 8} more` : '';
    text += `, shared by ${block.refCount} sequences (${shown}${more})`;
  }
  if (block.cached) text += ' · cached prefix';
  return text;
}

// Figures for the summary line.
export function liveCounts(state) {
  let shared = 0;
  let cachedFree = 0;
  for (const b of state.blocks) {
    if (b.owners.length > 1) ++shared;
    if (b.owners.length === 0 && b.cached) ++cachedFree;
  }
  return {
    used: state.usedBlocks,
    free: state.numBlocks - state.usedBlocks,
    shared,
    cachedFree,
    sequences: Object.keys(state.seqs).length,
    peak: state.peakUsedBlocks,
    preempted: state.counts.preempted,
  };
}
