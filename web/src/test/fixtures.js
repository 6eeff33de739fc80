// Shared test data.

// The server's answer for the defaults (`helix compare-memory --json`), every field.
export const REFERENCE_API = {
  traditional_memory_mb: 44.0,
  paged_memory_mb: 2.75,
  memory_saved_mb: 41.25,
  memory_saved_percent: 93.75,
  num_blocks: 1024,
  block_size: 16,
  blocks_used: 8,
  blocks_free: 1016,
  utilization_percent: 0.78,
  sequence_length: 128,
  model: 'tinyllama-1.1b',
  kv_dtype: 'f16',
  max_seq_len: 2048,
  batch_size: 1,
  kv_bytes_per_token: 22528,
  traditional_bytes: 46137344,
  paged_bytes: 2883584,
  memory_saved_bytes: 43253760,
  pool_bytes: 369098752,
  pool_memory_mb: 352.0,
  pool_tokens: 16384,
  traditional_wasted_tokens: 1920,
  paged_wasted_tokens: 0,
  sequences_fit_traditional: 8,
  sequences_fit_paged: 128,
};

// GET /models/presets as `helix serve` answers it (two of its presets).
const shape = (name, n_layers, n_heads, n_kv_heads, head_dim, context_length, kv_bytes_per_token) => ({
  name, n_layers, n_heads, n_kv_heads, head_dim, hidden_dim: n_heads * head_dim, context_length,
  kv_dtype: 'f16', kv_bytes_per_token, uses_gqa: n_kv_heads < n_heads,
});
export const PRESETS = {
  default: 'tinyllama-1.1b',
  presets: [
    { name: 'tinyllama-1.1b', description: 'TinyLlama-1.1B: 22 layers, GQA 32 query / 4 KV heads', shape: shape('tinyllama-1.1b', 22, 32, 4, 64, 2048, 22528) },
    { name: 'llama-2-7b', description: 'Llama-2-7B: 32 layers, MHA (32 KV heads, no GQA)', shape: shape('llama-2-7b', 32, 32, 32, 128, 4096, 524288) },
  ],
};
