// Dispatcher (checks, scratch, choice of code path) and the scalar reference path.
#include "kernels/cpu/paged_attention.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/fp16.h"
#include "common/result.h"
#include "kernels/cpu/paged_attention_impl.h"

namespace helix {
namespace paged_attention_detail {
namespace {

// The reference: plain loops, one key at a time, libm expf.
struct ScalarOps {
  static void zero(float* o, int32_t n) {
    for (int32_t d = 0; d < n; ++d) o[d] = 0.0f;
  }
  static void from_f16(const uint16_t* src, float* dst, int32_t n) {
    for (int32_t d = 0; d < n; ++d) dst[d] = fp16_to_f32(src[d]);
  }
  static void dots(const float* q, const float* const* k_rows, int32_t n, int32_t hd, float scale, float* s) {
    for (int32_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int32_t d = 0; d < hd; ++d) acc += q[d] * k_rows[j][d];
      s[j] = acc * scale;
    }
  }
  static float max(const float* s, int32_t n) {
    float m = s[0];
    for (int32_t j = 1; j < n; ++j) m = s[j] > m ? s[j] : m;
    return m;
  }
  static float exp_shift(float* s, int32_t n, float m) {
    float sum = 0.0f;
    for (int32_t j = 0; j < n; ++j) {
      s[j] = std::exp(s[j] - m);
      sum += s[j];
    }
    return sum;
  }
  static void scale_add(float* o, float c, const float* p, const float* const* v_rows, int32_t n, int32_t hd) {
    for (int32_t d = 0; d < hd; ++d) {
      float acc = o[d] * c;
      for (int32_t j = 0; j < n; ++j) acc += p[j] * v_rows[j][d];
      o[d] = acc;
    }
  }
  static void scale(float* o, float f, int32_t n) {
    for (int32_t d = 0; d < n; ++d) o[d] *= f;
  }
};

}  // namespace

void attend_scalar(const Args& a) { attend<ScalarOps>(a); }

}  // namespace paged_attention_detail

namespace {

AttentionIsa best_supported() {
  if (attention_isa_supported(AttentionIsa::Avx512)) return AttentionIsa::Avx512;
  if (attention_isa_supported(AttentionIsa::Avx2)) return AttentionIsa::Avx2;
  return AttentionIsa::Scalar;
}

AttentionIsa choose_isa() {
  const AttentionIsa best = best_supported();
  const char* env = std::getenv("HELIX_ISA");
  if (!env || !*env) return best;
  for (AttentionIsa isa : {AttentionIsa::Scalar, AttentionIsa::Avx2, AttentionIsa::Avx512}) {
    if (attention_isa_name(isa) != env) continue;
    if (attention_isa_supported(isa)) return isa;
    spdlog::warn("HELIX_ISA={}: this CPU lacks it; paged attention uses {}", env, attention_isa_name(best));
    return best;
  }
  spdlog::warn("HELIX_ISA={}: unknown (scalar, avx2, avx512); paged attention uses {}", env, attention_isa_name(best));
  return best;
}

}  // namespace

std::string_view attention_isa_name(AttentionIsa isa) {
  switch (isa) {
    case AttentionIsa::Scalar: return "scalar";
    case AttentionIsa::Avx2: return "avx2";
    case AttentionIsa::Avx512: return "avx512";
  }
  return "unknown";
}

bool attention_isa_supported(AttentionIsa isa) {
  switch (isa) {
    case AttentionIsa::Scalar: return true;
    case AttentionIsa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case AttentionIsa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             attention_isa_supported(AttentionIsa::Avx2);
  }
  return false;
}

AttentionIsa attention_isa() {
  static const AttentionIsa isa = choose_isa();
  return isa;
}

void paged_attention(const AttentionQueries& queries, const PagedKv& kv, std::span<const int32_t> block_table,
                     std::span<float> out) {
  paged_attention_isa(attention_isa(), queries, kv, block_table, out);
}

void paged_attention_isa(AttentionIsa isa, const AttentionQueries& qs, const PagedKv& kv,
                         std::span<const int32_t> block_table, std::span<float> out) {
  using namespace paged_attention_detail;
  HELIX_CHECK(kv.dtype == DType::F32 || kv.dtype == DType::F16, "paged attention: KV dtype {} (f32 or f16)",
              dtype_name(kv.dtype));
  HELIX_CHECK(qs.n_heads > 0 && kv.n_kv_heads > 0 && qs.n_heads % kv.n_kv_heads == 0,
              "paged attention: {} query heads over {} KV heads", qs.n_heads, kv.n_kv_heads);
  HELIX_CHECK(kv.head_dim > 0 && kv.block_size > 0 && qs.n_queries > 0 && qs.first_pos >= 0,
              "paged attention: head_dim {}, block_size {}, {} queries at {}", kv.head_dim, kv.block_size,
              qs.n_queries, qs.first_pos);
  const size_t values = static_cast<size_t>(qs.n_queries) * static_cast<size_t>(qs.n_heads) *
                        static_cast<size_t>(kv.head_dim);
  HELIX_CHECK(qs.q.size() == values && out.size() == values, "paged attention: q has {} values, out {}, expected {}",
              qs.q.size(), out.size(), values);
  HELIX_CHECK(out.data() + out.size() <= qs.q.data() || qs.q.data() + qs.q.size() <= out.data(),
              "paged attention: out overlaps q");
  const int64_t n_keys = qs.first_pos + qs.n_queries;
  const int64_t n_blocks = (n_keys + kv.block_size - 1) / kv.block_size;
  HELIX_CHECK(static_cast<int64_t>(block_table.size()) >= n_blocks,
              "paged attention: {} tokens need {} blocks of {}, the table has {}", n_keys, n_blocks, kv.block_size,
              block_table.size());
  for (int64_t i = 0; i < n_blocks; ++i)
    HELIX_CHECK(block_table[static_cast<size_t>(i)] >= 0, "paged attention: block table entry {} is {}", i,
                block_table[static_cast<size_t>(i)]);
  HELIX_CHECK(attention_isa_supported(isa), "paged attention: this CPU cannot run the {} path",
              attention_isa_name(isa));

  const int32_t tile_stride = (kv.head_dim + 15) / 16 * 16;
  const int32_t rows = qs.n_queries * (qs.n_heads / kv.n_kv_heads);
  const size_t tile_floats = static_cast<size_t>(kTileKeys) * static_cast<size_t>(tile_stride);
  const size_t need = 2 * tile_floats + kTileKeys + 2 * static_cast<size_t>(rows) + 16;
  thread_local std::vector<float> scratch;
  if (scratch.size() < need) scratch.resize(need);
  float* base = scratch.data();
  base += (16 - (reinterpret_cast<uintptr_t>(base) / sizeof(float)) % 16) % 16;  // 64-byte align

  Args a{};
  a.q = qs.q.data();
  a.out = out.data();
  a.n_queries = qs.n_queries;
  a.n_heads = qs.n_heads;
  a.first_pos = qs.first_pos;
  a.table = block_table.data();
  a.k = kv.k;
  a.v = kv.v;
  a.f16 = kv.dtype == DType::F16;
  a.block_stride_bytes = kv.block_stride_bytes;
  a.head_stride_bytes = kv.head_stride_bytes;
  a.slot_stride_bytes = kv.slot_stride_bytes;
  a.block_size = kv.block_size;
  a.n_kv_heads = kv.n_kv_heads;
  a.head_dim = kv.head_dim;
  a.tile_stride = tile_stride;
  a.scale = 1.0f / std::sqrt(static_cast<float>(kv.head_dim));
  a.k_tile = base;
  a.v_tile = base + tile_floats;
  a.scores = base + 2 * tile_floats;
  a.row_max = a.scores + kTileKeys;
  a.row_sum = a.row_max + rows;

  switch (isa) {
    case AttentionIsa::Scalar: attend_scalar(a); break;
    case AttentionIsa::Avx2: attend_avx2(a); break;
    case AttentionIsa::Avx512: attend_avx512(a); break;
  }
}

}  // namespace helix
