// Paged attention for one TinyLlama layer (32 query heads, 4 KV heads, head_dim 64, f16 cache, 16-token
// blocks scattered over the pool). Decode reads every K/V byte of the context once, so bytes/s is the
// figure to hold against the memory bandwidth.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "common/fp16.h"
#include "kernels/cpu/paged_attention.h"

namespace helix {
namespace {

constexpr int32_t kHeads = 32, kKvHeads = 4, kHeadDim = 64, kBlockSize = 16;

struct Layer {
  std::vector<std::byte> memory;
  PagedKv kv;
  std::vector<int32_t> table;
};

Layer make_layer(int64_t n_ctx, DType dtype) {
  Layer l;
  const int64_t elem = dtype == DType::F16 ? 2 : 4;
  const int64_t n_blocks = (n_ctx + kBlockSize - 1) / kBlockSize;
  const int64_t pool_blocks = 2 * n_blocks;  // half the pool belongs to "other sequences"
  l.kv.dtype = dtype;
  l.kv.block_size = kBlockSize;
  l.kv.n_kv_heads = kKvHeads;
  l.kv.head_dim = kHeadDim;
  l.kv.slot_stride_bytes = kHeadDim * elem;
  l.kv.head_stride_bytes = kBlockSize * l.kv.slot_stride_bytes;
  const int64_t half = kKvHeads * l.kv.head_stride_bytes;
  l.kv.block_stride_bytes = 2 * half;
  l.memory.resize(static_cast<size_t>(pool_blocks * l.kv.block_stride_bytes));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t i = 0; i + elem <= l.memory.size(); i += static_cast<size_t>(elem)) {
    const float x = u(rng);
    if (dtype == DType::F16) {
      const uint16_t h = f32_to_fp16(x);
      std::memcpy(&l.memory[i], &h, 2);
    } else {
      std::memcpy(&l.memory[i], &x, 4);
    }
  }
  l.kv.k = l.memory.data();
  l.kv.v = l.memory.data() + half;
  std::vector<int32_t> ids(static_cast<size_t>(pool_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  l.table.assign(ids.begin(), ids.begin() + n_blocks);
  return l;
}

// Args: context tokens, ISA (0 scalar, 1 avx2, 2 avx512), dtype (0 f16, 1 f32).
void BM_PagedAttentionDecode(benchmark::State& state) {
  const int64_t n_ctx = state.range(0);
  const auto isa = static_cast<AttentionIsa>(state.range(1));
  const DType dtype = state.range(2) == 0 ? DType::F16 : DType::F32;
  if (!attention_isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const Layer l = make_layer(n_ctx, dtype);
  std::vector<float> q(kHeads * kHeadDim, 0.01f), out(q.size());
  AttentionQueries queries;
  queries.q = q;
  queries.n_heads = kHeads;
  queries.first_pos = n_ctx - 1;
  for (auto _ : state) {
    paged_attention_isa(isa, queries, l.kv, l.table, out);
    benchmark::DoNotOptimize(out.data());
  }
  const int64_t kv_bytes = n_ctx * kKvHeads * kHeadDim * 2 * (dtype == DType::F16 ? 2 : 4);
  state.SetBytesProcessed(state.iterations() * kv_bytes);
  state.SetLabel(std::string(attention_isa_name(isa)) + " " + std::string(dtype_name(dtype)));
}

void decode_args(benchmark::internal::Benchmark* b) {
  for (int64_t isa : {0, 1, 2})
    for (int64_t ctx : {128, 256, 512, 1024, 2048}) b->Args({ctx, isa, 0});
  for (int64_t ctx : {512, 2048}) b->Args({ctx, 2, 1});
}
BENCHMARK(BM_PagedAttentionDecode)->Apply(decode_args);

// A whole prompt of n tokens in one call (causal), the way prefill uses it.
void BM_PagedAttentionPrefill(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto isa = static_cast<AttentionIsa>(state.range(1));
  if (!attention_isa_supported(isa)) {
    state.SkipWithError("ISA not supported by this CPU");
    return;
  }
  const Layer l = make_layer(n, DType::F16);
  std::vector<float> q(static_cast<size_t>(n) * kHeads * kHeadDim, 0.01f), out(q.size());
  AttentionQueries queries;
  queries.q = q;
  queries.n_queries = static_cast<int32_t>(n);
  queries.n_heads = kHeads;
  queries.first_pos = 0;
  for (auto _ : state) {
    paged_attention_isa(isa, queries, l.kv, l.table, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);  // prompt tokens
  state.SetLabel(std::string(attention_isa_name(isa)) + " f16");
}
BENCHMARK(BM_PagedAttentionPrefill)->Args({128, 2})->Args({512, 2})->Args({512, 1});

}  // namespace
}  // namespace helix
