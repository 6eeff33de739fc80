import { describe, expect, test } from 'vitest';
import {
  blocksForTokens,
  compareMemory,
  kvBytesPerToken,
  memoryCurves,
  mismatchesWithApi,
  pagedBytes,
  round2,
  traditionalBytes,
} from './memory_math.js';
import { REFERENCE_API } from '../test/fixtures.js';

const TINYLLAMA = { n_layers: 22, n_heads: 32, n_kv_heads: 4, head_dim: 64 };
const LLAMA2_7B = { n_layers: 32, n_heads: 32, n_kv_heads: 32, head_dim: 128 };
const REFERENCE = { perTokenBytes: 22528, sequenceLength: 128, maxSeqLen: 2048, blockSize: 16, numBlocks: 1024, batchSize: 1 };

describe('kvBytesPerToken', () => {
  test('TinyLlama f16: 22 layers * 2 (K,V) * 4 KV heads * 64 * 2 B = 22,528 B', () => {
    expect(kvBytesPerToken(TINYLLAMA, 'f16')).toBe(22528);
    expect(kvBytesPerToken(TINYLLAMA, 'bf16')).toBe(22528);
    expect(kvBytesPerToken(TINYLLAMA, 'f32')).toBe(45056);
  });
  test('q8_0: 11,264 values = 352 blocks of 32 at 34 B = 11,968 B', () => {
    expect(kvBytesPerToken(TINYLLAMA, 'q8_0')).toBe(11968);
  });
  test('Llama-2-7B has no GQA: 32 * 2 * 32 * 128 * 2 B = 524,288 B', () => {
    expect(kvBytesPerToken(LLAMA2_7B, 'f16')).toBe(524288);
  });
  test('values that are not whole q8_0 blocks, or unknown dtypes, give null', () => {
    expect(kvBytesPerToken({ n_layers: 1, n_kv_heads: 1, head_dim: 8 }, 'q8_0')).toBeNull(); // 16 values
    expect(kvBytesPerToken(TINYLLAMA, 'q4_0')).toBeNull();
  });
});

describe('compareMemory: the pinned reference case', () => {
  test('every field equals the server answer', () => {
    const mine = compareMemory(REFERENCE);
    for (const [key, value] of Object.entries(mine)) expect([key, value]).toEqual([key, REFERENCE_API[key]]);
    expect(mismatchesWithApi(REFERENCE_API)).toEqual([]);
  });
  test('traditional = batch * max_seq_len * per_token; paged = batch * ceil(len/bs) * bs * per_token', () => {
    expect(traditionalBytes(REFERENCE)).toBe(1 * 2048 * 22528); // 46,137,344
    expect(pagedBytes(REFERENCE)).toBe(1 * 8 * 16 * 22528); // 2,883,584
  });
  test('not the halved 22.00 MiB / 87.5 % figure', () => {
    const mine = compareMemory(REFERENCE);
    expect(mine.traditional_memory_mb).not.toBe(22);
    expect(mine.memory_saved_percent).not.toBe(87.5);
  });
});

describe('compareMemory: other cases', () => {
  test('a partial last block: 100 tokens in blocks of 16 -> 7 blocks, 12 empty slots', () => {
    const c = compareMemory({ ...REFERENCE, sequenceLength: 100 });
    expect(c.blocks_used).toBe(7);
    expect(c.paged_bytes).toBe(7 * 16 * 22528); // 2,523,136 B = 2.40625 MiB
    expect(c.paged_memory_mb).toBe(2.41);
    expect(c.paged_wasted_tokens).toBe(12);
    expect(c.traditional_wasted_tokens).toBe(1948);
    // saved 43,614,208 / 46,137,344 = 94.53125 %
    expect(c.memory_saved_percent).toBe(94.53);
  });
  test('batch 4 of 1000 tokens, Llama-2-7B, blocks of 32', () => {
    // 4 * ceil(1000/32)=32 blocks = 128 blocks; paged = 128 * 32 * 524,288 = 2,147,483,648 B = 2048 MiB.
    // traditional = 4 * 4096 * 524,288 = 8,589,934,592 B = 8192 MiB; saved 75 %.
    const c = compareMemory({ perTokenBytes: 524288, sequenceLength: 1000, maxSeqLen: 4096, blockSize: 32, numBlocks: 1024, batchSize: 4 });
    expect(c.blocks_used).toBe(128);
    expect(c.paged_bytes).toBe(2147483648);
    expect(c.traditional_bytes).toBe(8589934592);
    expect(c.paged_memory_mb).toBe(2048);
    expect(c.memory_saved_percent).toBe(75);
    expect(c.utilization_percent).toBe(12.5);
    // pool = 1024 * 32 * 524,288 B = 16 GiB: 16 GiB / 2 GiB per reservation = 8; 1024 / 32 = 32.
    expect(c.sequences_fit_traditional).toBe(8);
    expect(c.sequences_fit_paged).toBe(32);
  });
  test('rounding up to a block can cost more than a short max_seq_len (saved < 0)', () => {
    // 100 tokens, max 100, blocks of 64: paged holds 128 slots, traditional 100.
    const c = compareMemory({ perTokenBytes: 1024, sequenceLength: 100, maxSeqLen: 100, blockSize: 64, numBlocks: 10, batchSize: 1 });
    expect(c.memory_saved_bytes).toBe(-28 * 1024);
    expect(c.memory_saved_percent).toBe(-28);
  });
  test('utilization rounds like the server: 1/3 of the pool = 33.33 %', () => {
    expect(compareMemory({ ...REFERENCE, sequenceLength: 16, numBlocks: 3 }).utilization_percent).toBe(33.33);
  });
  test('round2 rounds halves away from zero, as std::round does', () => {
    expect(round2(0.125)).toBe(0.13);
    expect(round2(-0.125)).toBe(-0.13);
    expect(round2(0.78125)).toBe(0.78);
  });
  test('blocksForTokens', () => {
    expect(blocksForTokens(128, 16)).toBe(8);
    expect(blocksForTokens(129, 16)).toBe(9);
    expect(blocksForTokens(1, 128)).toBe(1);
  });
});

describe('mismatchesWithApi', () => {
  test('names a field the server got different', () => {
    expect(mismatchesWithApi({ ...REFERENCE_API, paged_memory_mb: 2.7 })).toEqual([
      { field: 'paged_memory_mb', client: 2.75, server: 2.7 },
    ]);
  });
});

describe('memoryCurves', () => {
  test('a staircase: flat inside a block, one block higher after each boundary', () => {
    const c = memoryCurves({ perTokenBytes: 10, maxSeqLen: 40, blockSize: 16, batchSize: 2 });
    expect(c.traditional).toEqual([
      [1, 800],
      [40, 800],
    ]);
    expect(c.paged).toEqual([
      [1, 320],
      [16, 320],
      [17, 640],
      [32, 640],
      [33, 960],
      [40, 960],
    ]);
    expect(c.maxBytes).toBe(960);
  });
  test('many steps are sampled at exact values', () => {
    const c = memoryCurves({ perTokenBytes: 22528, maxSeqLen: 2048, blockSize: 1, batchSize: 1 }, 64);
    expect(c.paged).toHaveLength(64);
    expect(c.paged[0]).toEqual([1, 22528]);
    expect(c.paged[63]).toEqual([2048, 2048 * 22528]);
  });
});
