import { describe, expect, test } from 'vitest';
import { applyEvents, fromSnapshot, liveBlockMap, liveBlockTitle, liveCounts, resetPeak, SEQ_PALETTE, seqColor } from './live_kv.js';

// A pool of 6 blocks of 4 tokens, empty.
const EMPTY_SNAPSHOT = {
  block_size: 4,
  num_blocks: 6,
  blocks: Array.from({ length: 6 }, (_, id) => ({ id, ref_count: 0, tokens_filled: 0, cached: false, free: true, owners: [] })),
  sequences: [],
};

// What the engine emits for: seq 1 takes a 6-token prompt (blocks 0, 1) and caches its full block 0; seq 2
// comes with the same first 4 tokens, adopts block 0 and takes block 2; seq 1 ends (frees last block first);
// seq 2 ends.
const LIFE = [
  { index: 0, type: 'allocate', seq: 1, blocks: [0, 1] },
  { index: 1, type: 'cache', seq: 1, blocks: [0] },
  { index: 2, type: 'prefix_hit', seq: 2, blocks: [0] },
  { index: 3, type: 'allocate', seq: 2, blocks: [2] },
  { index: 4, type: 'free', seq: 1, blocks: [1, 0] },
  { index: 5, type: 'free', seq: 2, blocks: [2, 0] },
];

const owners = (s) => s.blocks.map((b) => b.owners);

describe('fromSnapshot', () => {
  test('takes owners, cached flags, tables and token counts from /kv/blocks', () => {
    const snap = {
      block_size: 4,
      num_blocks: 4,
      blocks: [
        { id: 0, ref_count: 2, tokens_filled: 4, cached: true, free: false, owners: [7, 3] },
        { id: 1, ref_count: 1, tokens_filled: 2, cached: false, free: false, owners: [3] },
        { id: 2, ref_count: 0, tokens_filled: 4, cached: true, free: true, owners: [] },
        { id: 3, ref_count: 1, tokens_filled: 1, cached: false, free: false, owners: [7] },
      ],
      sequences: [
        { seq: 3, num_tokens: 6, last_block_fill: 2, num_cached_blocks: 1, block_ids: [0, 1] },
        { seq: 7, num_tokens: 5, last_block_fill: 1, num_cached_blocks: 1, block_ids: [0, 3] },
      ],
    };
    const s = fromSnapshot(snap);
    expect(owners(s)).toEqual([[3, 7], [3], [], [7]]);
    expect(s.blocks.map((b) => b.cached)).toEqual([true, false, true, false]);
    expect(s.blocks.map((b) => b.fill)).toEqual([4, 2, 4, 1]);
    expect(s.seqs).toEqual({ 3: [0, 1], 7: [0, 3] });
    expect(s.seqTokens).toEqual({ 3: 6, 7: 5 });
    expect(s.usedBlocks).toBe(3);
    expect(s.peakUsedBlocks).toBe(3);
    expect(liveCounts(s)).toEqual({ used: 3, free: 1, shared: 1, cachedFree: 1, sequences: 2, peak: 3, preempted: 0 });
  });

  test('a re-fetched snapshot of the same pool keeps the peak and counters', () => {
    const busy = applyEvents(fromSnapshot(EMPTY_SNAPSHOT), LIFE.slice(0, 4));
    const again = fromSnapshot(EMPTY_SNAPSHOT, busy);
    expect(again.usedBlocks).toBe(0);
    expect(again.peakUsedBlocks).toBe(3);
    expect(again.counts.allocated).toBe(3);
  });
});

describe('applyEvents', () => {
  test('a shared prefix: blocks taken, shared, cached and freed, step by step', () => {
    let s = fromSnapshot(EMPTY_SNAPSHOT);
    const steps = LIFE.map((ev) => (s = applyEvents(s, [ev])));
    expect(steps.map(owners)).toEqual([
      [[1], [1], [], [], [], []],
      [[1], [1], [], [], [], []],
      [[1, 2], [1], [], [], [], []],
      [[1, 2], [1], [2], [], [], []],
      [[2], [], [2], [], [], []],
      [[], [], [], [], [], []],
    ]);
    expect(steps.map((x) => x.usedBlocks)).toEqual([2, 2, 2, 3, 2, 0]);
    expect(steps.map((x) => x.seqs)).toEqual([{ 1: [0, 1] }, { 1: [0, 1] }, { 1: [0, 1], 2: [0] }, { 1: [0, 1], 2: [0, 2] }, { 2: [0, 2] }, {}]);
    // Block 0 stays cached after everyone left: a later prompt with the same start can adopt it.
    expect(s.blocks.map((b) => b.cached)).toEqual([true, false, false, false, false, false]);
    expect(s.peakUsedBlocks).toBe(3);
    // 6 events; blocks 0, 1, 2 allocated; 1 prefix hit; each free event drops 2 references: 4.
    expect(s.counts).toEqual({ events: 6, allocated: 3, freed: 4, prefixHits: 1, preempted: 0, evicted: 0 });
  });

  test('one batch gives the same state as one event at a time', () => {
    let oneByOne = fromSnapshot(EMPTY_SNAPSHOT);
    for (const ev of LIFE.slice(0, 4)) oneByOne = applyEvents(oneByOne, [ev]);
    const batch = applyEvents(fromSnapshot(EMPTY_SNAPSHOT), LIFE.slice(0, 4));
    expect(batch).toEqual(oneByOne);
  });

  test('replaying events a snapshot already holds changes nothing', () => {
    const s = applyEvents(fromSnapshot(EMPTY_SNAPSHOT), LIFE.slice(0, 4));
    const replayed = applyEvents(s, LIFE.slice(0, 4));
    expect(owners(replayed)).toEqual(owners(s));
    expect(replayed.seqs).toEqual(s.seqs);
    expect(replayed.usedBlocks).toBe(3);
    // A free of a block the sequence no longer holds is ignored too.
    const freed = applyEvents(s, [LIFE[4], LIFE[4]]);
    expect(owners(freed)).toEqual([[2], [], [2], [], [], []]);
    expect(freed.usedBlocks).toBe(2);
  });

  test('fork shares every block; copy-on-write moves the writer to a private copy', () => {
    const s = applyEvents(fromSnapshot(EMPTY_SNAPSHOT), [
      { type: 'allocate', seq: 1, blocks: [4, 5] },
      { type: 'fork', seq: 2, blocks: [4, 5] },
      { type: 'cow', seq: 2, blocks: [5, 3] },
    ]);
    expect(owners(s)).toEqual([[], [], [], [2], [1, 2], [1]]);
    expect(s.seqs).toEqual({ 1: [4, 5], 2: [4, 3] });
    expect(s.usedBlocks).toBe(3);
    expect(s.counts.allocated).toBe(3); // 4, 5 and the copy 3
  });

  test('preempt counts, its free releases; evict uncaches a free block; junk is ignored', () => {
    let s = applyEvents(fromSnapshot(EMPTY_SNAPSHOT), [
      { type: 'allocate', seq: 1, blocks: [0, 1] },
      { type: 'cache', seq: 1, blocks: [0] },
      { type: 'preempt', seq: 1, blocks: [0, 1] },
      { type: 'free', seq: 1, blocks: [1, 0] },
    ]);
    expect(owners(s)).toEqual([[], [], [], [], [], []]);
    expect(s.blocks[0].cached).toBe(true);
    expect(s.counts.preempted).toBe(1);
    s = applyEvents(s, [
      { type: 'evict', seq: null, blocks: [0] },
      { type: 'allocate', seq: 4, blocks: [0, 99, -1] }, // 99 and -1 are outside the pool
      { type: 'no_such_event', seq: 4, blocks: [2] },
      { type: 'allocate', seq: 5 },
    ]);
    expect(owners(s)).toEqual([[4], [], [], [], [], []]);
    expect(s.blocks[0].cached).toBe(false);
    expect(s.counts.evicted).toBe(1);
    expect(s.peakUsedBlocks).toBe(2);
    expect(resetPeak(s).peakUsedBlocks).toBe(1);
    expect(resetPeak(s).counts.events).toBe(0);
  });
});

describe('liveBlockMap', () => {
  test('blocks carry sequence, token range, ref count, sharing and colour; titles say so', () => {
    const snap = {
      block_size: 4,
      num_blocks: 4,
      blocks: [
        { id: 0, tokens_filled: 4, cached: true, owners: [3, 7] },
        { id: 1, tokens_filled: 2, cached: false, owners: [3] },
        { id: 2, tokens_filled: 4, cached: true, owners: [] },
        { id: 3, tokens_filled: 1, cached: false, owners: [7] },
      ],
      sequences: [
        { seq: 3, num_tokens: 6, block_ids: [0, 1] },
        { seq: 7, num_tokens: 5, block_ids: [0, 3] },
      ],
    };
    let map = liveBlockMap(fromSnapshot(snap));
    expect(map.source).toBe('engine');
    expect(map.numBlocks).toBe(4);
    expect(map.sequences).toBe(2);
    expect(map.blocks.map((b) => [b.state, b.sequence, b.firstToken, b.lastToken, b.tokens, b.refCount, b.shared])).toEqual([
      ['used', 3, 0, 3, 4, 2, true],
      ['used', 3, 4, 5, 2, 1, false], // 6 tokens: block 1 holds tokens 4 and 5
      ['free', null, null, null, 0, 0, false],
      ['used', 7, 4, 4, 1, 1, false], // 5 tokens: block 3 holds token 4 only
    ]);
    expect(map.blocks.map((b) => b.title)).toEqual([
      'Block 0: sequence 3, tokens 0–3 · ref count 2, shared by 2 sequences (3, 7) · cached prefix',
      'Block 1: sequence 3, tokens 4–5 · ref count 1',
      'Block 2: free · cached prefix (reusable until evicted)',
      'Block 3: sequence 7, tokens 4–4 · ref count 1',
    ]);
    expect(map.blocks[0].color).toBe(seqColor(3));
    expect(map.blocks[3].color).toBe(SEQ_PALETTE[7]);
    // After an allocate the new last block's fill is unknown until the next snapshot.
    map = liveBlockMap(applyEvents(fromSnapshot(snap), [{ type: 'allocate', seq: 3, blocks: [2] }]));
    expect(map.blocks[1].tokens).toBe(4);
    expect(map.blocks[2].tokens).toBeNull();
    expect(liveBlockTitle(map.blocks[2])).toBe('Block 2: sequence 3, tokens from 8 (last block, filling) · ref count 1');
  });

  test('a block shared by many names the first 8 owners', () => {
    const snap = {
      block_size: 4,
      num_blocks: 1,
      blocks: [{ id: 0, tokens_filled: 4, cached: true, owners: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }],
      sequences: Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, num_tokens: 4, block_ids: [0] })),
    };
    expect(liveBlockMap(fromSnapshot(snap)).blocks[0].title).toBe(
      'Block 0: sequence 1, tokens 0–3 · ref count 10, shared by 10 sequences (1, 2, 3, 4, 5, 6, 7, 8 and 2 more) · cached prefix',
    );
  });

  test('colours are stable per sequence id and wrap around the palette', () => {
    expect(seqColor(0)).toBe(SEQ_PALETTE[0]);
    expect(seqColor(12)).toBe(SEQ_PALETTE[0]);
    expect(seqColor(13)).toBe(SEQ_PALETTE[1]);
    expect(new Set(SEQ_PALETTE).size).toBe(SEQ_PALETTE.length);
  });
});
