import { describe, expect, test } from 'vitest';
import { aggregateCells, blockTitle, cellTitle, computedBlockMap, countStates } from './block_map.js';

const REFERENCE = { num_blocks: 1024, block_size: 16, blocks_used: 8, sequence_length: 128, batch_size: 1 };

describe('computedBlockMap', () => {
  test('reference: blocks 0..7 hold tokens 0..127, 1016 free', () => {
    const map = computedBlockMap(REFERENCE);
    expect(map.blocks).toHaveLength(1024);
    expect(countStates(map)).toEqual({ used: 8, free: 1016, shared: 0 });
    expect(map.blocks[0]).toMatchObject({ id: 0, state: 'used', sequence: 0, firstToken: 0, lastToken: 15, tokens: 16 });
    expect(map.blocks[7]).toMatchObject({ state: 'used', firstToken: 112, lastToken: 127 });
    expect(map.blocks[8]).toMatchObject({ state: 'free', sequence: null });
  });
  test('several sequences, partial last blocks', () => {
    // 3 sequences of 20 tokens in blocks of 8: 3 blocks each (8 + 8 + 4), 9 used.
    const map = computedBlockMap({ num_blocks: 12, block_size: 8, blocks_used: 9, sequence_length: 20, batch_size: 3 });
    expect(countStates(map)).toEqual({ used: 9, free: 3, shared: 0 });
    expect(map.blocks[2]).toMatchObject({ sequence: 0, firstToken: 16, lastToken: 19, tokens: 4 });
    expect(map.blocks[3]).toMatchObject({ sequence: 1, firstToken: 0, lastToken: 7 });
    expect(map.blocks[8]).toMatchObject({ sequence: 2, firstToken: 16, lastToken: 19 });
    expect(blockTitle(map.blocks[2], map)).toBe('Block 2: tokens 16–19 of sequence 0 (4 empty slots)');
    expect(blockTitle(map.blocks[3], map)).toBe('Block 3: tokens 0–7 of sequence 1');
    expect(blockTitle(map.blocks[11], map)).toBe('Block 11: free');
  });
});

describe('blockTitle', () => {
  const map = computedBlockMap(REFERENCE);
  test('one sequence: no sequence number', () => {
    expect(blockTitle(map.blocks[0], map)).toBe('Block 0: tokens 0–15');
    expect(blockTitle(map.blocks[1023], map)).toBe('Block 1023: free');
  });
  test('an engine block map may mark shared prefixes', () => {
    const shared = { id: 5, state: 'used', sequence: 2, firstToken: 0, lastToken: 15, tokens: 16, shared: true };
    expect(blockTitle(shared, { blockSize: 16, sequences: 3 })).toBe('Block 5: tokens 0–15 of sequence 2, shared prefix');
    expect(blockTitle({ ...shared, tokens: 15 }, { blockSize: 16 })).toBe('Block 5: tokens 0–15 (1 empty slot), shared prefix');
  });
});

describe('aggregateCells', () => {
  test('groups of blocks: used, partial, free', () => {
    // 10 blocks, 5 used, 4 per cell -> [0..3] used, [4..7] partial (1 used), [8..9] free.
    const map = computedBlockMap({ num_blocks: 10, block_size: 16, blocks_used: 5, sequence_length: 80, batch_size: 1 });
    const cells = aggregateCells(map, 4);
    expect(cells.map((c) => c.state)).toEqual(['used', 'partial', 'free']);
    expect(cells[1]).toMatchObject({ firstBlock: 4, lastBlock: 7, used: 1 });
    expect(cellTitle(cells[1])).toBe('Blocks 4–7: 1 of 4 used');
    expect(cellTitle(cells[2])).toBe('Blocks 8–9: free');
  });
});
