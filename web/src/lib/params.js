// The comparison's inputs: defaults (the pinned reference case), limits the controls enforce, and the
// /compare/memory query string.

export const DEFAULT_MODEL = 'tinyllama-1.1b';
export const BLOCK_SIZES = [1, 8, 16, 32, 64, 128];
export const KV_DTYPE_NAMES = ['f32', 'f16', 'bf16', 'q8_0'];

export const DEFAULT_PARAMS = Object.freeze({
  model: DEFAULT_MODEL,
  sequence_length: 128,
  max_seq_len: 2048,
  block_size: 16,
  num_blocks: 1024,
  batch_size: 1,
  kv_dtype: 'f16',
});

export const LIMITS = Object.freeze({
  batch_size: { min: 1, max: 1024 },
  num_blocks: { min: 1, max: 1 << 20 },
  max_seq_len: { min: 1, max: 1 << 20 }, // further capped by the model's context length
});

// Keeps the inputs consistent after one changes: max_seq_len within the model's context, the
// sequence within max_seq_len.
export function normalizeParams(params, contextLength) {
  const p = { ...params };
  if (Number.isFinite(contextLength) && contextLength > 0) p.max_seq_len = Math.min(p.max_seq_len, contextLength);
  p.max_seq_len = Math.max(1, p.max_seq_len);
  p.sequence_length = Math.min(Math.max(1, p.sequence_length), p.max_seq_len);
  return p;
}

// Query string with a fixed parameter order (stable URLs, easy to compare in logs).
export function compareQuery(params) {
  const q = new URLSearchParams();
  for (const key of ['model', 'sequence_length', 'max_seq_len', 'block_size', 'num_blocks', 'batch_size', 'kv_dtype'])
    q.set(key, String(params[key]));
  return q.toString();
}

// Blocks the workload needs, to warn before asking the server (which refuses it with param num_blocks).
export function blocksNeeded(params) {
  return params.batch_size * Math.ceil(params.sequence_length / params.block_size);
}
