// The KV-cache arithmetic of src/kv/memory_math.cpp, exactly, so the page can draw whole curves without
// asking the server for every point. The page checks these figures against the API on the current point.
import { BYTES_PER_MIB } from './format.js';

// Storage of one KV value per dtype: q8_0 packs 32 int8 values with one f16 scale into 34 bytes.
export const KV_DTYPES = {
  f32: { blockValues: 1, blockBytes: 4 },
  f16: { blockValues: 1, blockBytes: 2 },
  bf16: { blockValues: 1, blockBytes: 2 },
  q8_0: { blockValues: 32, blockBytes: 34 },
};

// n_layers * 2 (K and V) * n_kv_heads * head_dim values, stored as `dtype`. Null when the values do not
// form whole dtype blocks (the server refuses that shape for q8_0).
export function kvBytesPerToken(shape, dtype) {
  const info = KV_DTYPES[dtype];
  if (!info || !shape) return null;
  const values = shape.n_layers * 2 * shape.n_kv_heads * shape.head_dim;
  if (!Number.isSafeInteger(values) || values <= 0 || values % info.blockValues !== 0) return null;
  return (values / info.blockValues) * info.blockBytes;
}

// ceil(tokens / block_size).
export function blocksForTokens(tokens, blockSize) {
  return Math.floor((tokens + blockSize - 1) / blockSize);
}

// As the server rounds: to 2 decimals, halves away from zero (std::round).
export function round2(value) {
  return (Math.sign(value) * Math.round(Math.abs(value) * 100)) / 100;
}

// Contiguous cache: every sequence reserves max_seq_len tokens up front.
export function traditionalBytes({ batchSize, maxSeqLen, perTokenBytes }) {
  return batchSize * maxSeqLen * perTokenBytes;
}

// Paged cache: each sequence holds ceil(len / block_size) whole blocks.
export function pagedBytes({ batchSize, sequenceLength, blockSize, perTokenBytes }) {
  return batchSize * blocksForTokens(sequenceLength, blockSize) * blockSize * perTokenBytes;
}

// The whole /compare/memory answer (numbers only) for one point; field names match the API.
export function compareMemory(p) {
  const { perTokenBytes, sequenceLength, maxSeqLen, blockSize, numBlocks, batchSize } = p;
  const blocksPerSequence = blocksForTokens(sequenceLength, blockSize);
  const blocksUsed = batchSize * blocksPerSequence;
  const traditional = traditionalBytes(p);
  const paged = pagedBytes(p);
  const saved = traditional - paged;
  const poolTokens = numBlocks * blockSize;
  const poolBytes = poolTokens * perTokenBytes;
  const savedPercent = traditional === 0 ? 0 : (100 * saved) / traditional;
  const utilization = numBlocks === 0 ? 0 : (100 * blocksUsed) / numBlocks;
  return {
    traditional_memory_mb: round2(traditional / BYTES_PER_MIB),
    paged_memory_mb: round2(paged / BYTES_PER_MIB),
    memory_saved_mb: round2(saved / BYTES_PER_MIB),
    memory_saved_percent: round2(savedPercent),
    num_blocks: numBlocks,
    block_size: blockSize,
    blocks_used: blocksUsed,
    blocks_free: numBlocks - blocksUsed,
    utilization_percent: round2(utilization),
    sequence_length: sequenceLength,
    max_seq_len: maxSeqLen,
    batch_size: batchSize,
    kv_bytes_per_token: perTokenBytes,
    traditional_bytes: traditional,
    paged_bytes: paged,
    memory_saved_bytes: saved,
    pool_bytes: poolBytes,
    pool_memory_mb: round2(poolBytes / BYTES_PER_MIB),
    pool_tokens: poolTokens,
    traditional_wasted_tokens: batchSize * (maxSeqLen - sequenceLength),
    paged_wasted_tokens: batchSize * (blocksPerSequence * blockSize - sequenceLength),
    // How many sequences of this length the pool's bytes hold under each scheme.
    sequences_fit_traditional: Math.floor(poolBytes / (maxSeqLen * perTokenBytes)),
    sequences_fit_paged: Math.floor(numBlocks / blocksPerSequence),
  };
}

// The computed point from an API answer's own inputs (it echoes them all).
export function compareMemoryFromApi(api) {
  return compareMemory({
    perTokenBytes: api.kv_bytes_per_token,
    sequenceLength: api.sequence_length,
    maxSeqLen: api.max_seq_len,
    blockSize: api.block_size,
    numBlocks: api.num_blocks,
    batchSize: api.batch_size,
  });
}

// Fields where the client formulas and the server disagree: [] when they agree everywhere.
export function mismatchesWithApi(api) {
  const mine = compareMemoryFromApi(api);
  return Object.keys(mine)
    .filter((key) => key in api && mine[key] !== api[key])
    .map((key) => ({ field: key, client: mine[key], server: api[key] }));
}

// Curve points (sequence length, bytes) for 1..maxSeqLen. The paged curve is a staircase: flat while
// the last block fills, a jump of one block per sequence at every block boundary. With more steps than
// maxPoints the staircase is sampled at exact values instead (it is a line at that resolution).
export function memoryCurves({ perTokenBytes, maxSeqLen, blockSize, batchSize }, maxPoints = 512) {
  const traditional = traditionalBytes({ batchSize, maxSeqLen, perTokenBytes });
  const paged = (len) => pagedBytes({ batchSize, sequenceLength: len, blockSize, perTokenBytes });
  const points = [];
  const steps = blocksForTokens(maxSeqLen, blockSize);
  if (steps * 2 <= maxPoints) {
    for (let k = 1; k <= steps; ++k) {
      const first = (k - 1) * blockSize + 1;
      const last = Math.min(k * blockSize, maxSeqLen);
      const y = paged(first);
      points.push([first, y], [last, y]);
    }
  } else {
    for (let i = 0; i < maxPoints; ++i) {
      const len = Math.max(1, Math.round(1 + ((maxSeqLen - 1) * i) / (maxPoints - 1)));
      points.push([len, paged(len)]);
    }
  }
  return {
    traditional: [
      [1, traditional],
      [maxSeqLen, traditional],
    ],
    paged: points,
    maxBytes: Math.max(traditional, paged(maxSeqLen)),
  };
}
