import { describe, expect, test } from 'vitest';
import { blocksNeeded, compareQuery, DEFAULT_PARAMS, normalizeParams } from './params.js';

describe('params', () => {
  test('defaults are the reference case', () => {
    expect(DEFAULT_PARAMS).toEqual({
      model: 'tinyllama-1.1b',
      sequence_length: 128,
      max_seq_len: 2048,
      block_size: 16,
      num_blocks: 1024,
      batch_size: 1,
      kv_dtype: 'f16',
    });
  });
  test('query string in a fixed order', () => {
    expect(compareQuery(DEFAULT_PARAMS)).toBe(
      'model=tinyllama-1.1b&sequence_length=128&max_seq_len=2048&block_size=16&num_blocks=1024&batch_size=1&kv_dtype=f16',
    );
  });
  test('max_seq_len is capped by the model context, the sequence by max_seq_len', () => {
    expect(normalizeParams({ ...DEFAULT_PARAMS, model: 'stories260k' }, 512)).toMatchObject({ max_seq_len: 512, sequence_length: 128 });
    expect(normalizeParams({ ...DEFAULT_PARAMS, max_seq_len: 100 }, 2048)).toMatchObject({ max_seq_len: 100, sequence_length: 100 });
    expect(normalizeParams({ ...DEFAULT_PARAMS, sequence_length: 0 }, undefined)).toMatchObject({ sequence_length: 1 });
  });
  test('blocks needed', () => {
    expect(blocksNeeded(DEFAULT_PARAMS)).toBe(8);
    expect(blocksNeeded({ ...DEFAULT_PARAMS, sequence_length: 129, batch_size: 3 })).toBe(27);
  });
});
