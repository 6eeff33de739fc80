// The paged attention algorithm, written once over a small set of vector operations (`Ops`) that each
// code path (scalar, AVX2, AVX-512) supplies. Included only by paged_attention*.cpp.
//
// These files are compiled with different -m flags, so everything here is in an anonymous namespace or a
// template over a file-local Ops type, and nothing calls std:: inline functions: an inline function
// emitted by the AVX-512 file could otherwise be picked by the linker for the scalar one.
#pragma once

#include <math.h>  // expf, a libm call: never inlined with this file's instruction set into others

#include <cstddef>
#include <cstdint>

namespace helix::paged_attention_detail {

// Keys processed per step of the online softmax: large enough that the per-step rescale is cheap, small
// enough that a step's K and V (2 * 32 * head_dim floats) stay in L1.
constexpr int32_t kTileKeys = 32;
// How far ahead (in keys) attention touches the K and V rows it will read.
constexpr int64_t kPrefetchKeys = 2 * kTileKeys;

// Everything the algorithm needs, checked and laid out by the dispatcher (paged_attention.cpp).
struct Args {
  const float* q;  // [n_queries][n_heads][head_dim]
  float* out;      // same shape
  int32_t n_queries;
  int32_t n_heads;
  int64_t first_pos;
  const int32_t* table;  // covers first_pos + n_queries tokens
  const std::byte* k;
  const std::byte* v;
  bool f16;
  int64_t block_stride_bytes;
  int64_t head_stride_bytes;
  int64_t slot_stride_bytes;
  int32_t block_size;
  int32_t n_kv_heads;
  int32_t head_dim;
  int32_t tile_stride;  // floats between converted rows: head_dim rounded up to 16
  float scale;
  // Scratch (64-byte aligned): k_tile and v_tile [kTileKeys][tile_stride] (f16 only), scores [kTileKeys],
  // running max and sum [n_queries * n_heads / n_kv_heads].
  float* k_tile;
  float* v_tile;
  float* scores;
  float* row_max;
  float* row_sum;
};

void attend_scalar(const Args& a);
void attend_avx2(const Args& a);
void attend_avx512(const Args& a);

namespace {

// Byte offset of position t's K (or V) row of KV head g in the pool.
inline int64_t row_offset(const Args& a, int32_t g, int64_t t) {
  return a.table[t / a.block_size] * a.block_stride_bytes + g * a.head_stride_bytes +
         (t % a.block_size) * a.slot_stride_bytes;
}

// Online softmax (one pass): per query row keep the running max m, the running sum l of exp(s - m) and
// the unnormalised output o. A step with scores s_j and values v_j becomes
//   m' = max(m, max_j s_j),  c = exp(m - m'),  l' = c*l + sum_j exp(s_j - m'),  o' = c*o + sum_j exp(s_j - m') v_j
// and the result is o / l. Every K and V row is read once per KV head, for all query heads of its group.
template <class Ops>
void attend(const Args& a) {
  const int32_t hd = a.head_dim;
  const int64_t row_bytes = int64_t{hd} * (a.f16 ? 2 : 4);
  const int32_t n_rep = a.n_heads / a.n_kv_heads;
  const int64_t n_keys = a.first_pos + a.n_queries;
  const int32_t rows = a.n_queries * n_rep;
  const float* k_rows[kTileKeys];
  const float* v_rows[kTileKeys];

  for (int32_t g = 0; g < a.n_kv_heads; ++g) {
    for (int32_t row = 0; row < rows; ++row) {
      a.row_max[row] = -__builtin_inff();
      a.row_sum[row] = 0.0f;
    }
    for (int32_t i = 0; i < a.n_queries; ++i)
      for (int32_t r = 0; r < n_rep; ++r) Ops::zero(a.out + (int64_t{i} * a.n_heads + g * n_rep + r) * hd, hd);

    for (int64_t t0 = 0; t0 < n_keys; t0 += kTileKeys) {
      const int32_t n_tile = static_cast<int32_t>(n_keys - t0 < kTileKeys ? n_keys - t0 : kTileKeys);
      for (int32_t j = 0; j < n_tile; ++j) {
        const int64_t t = t0 + j;
        // The same key of the step after next is touched now, so that it is in the cache when its turn comes: the
        // pool is far larger than the caches and a decode step's weights have just streamed through them, and a
        // block's rows of one head are 2 KiB runs, too short for the hardware prefetchers. One key at a time keeps
        // the touches spread among the work instead of stalling on a burst of them.
        if (t + kPrefetchKeys < n_keys) {
          const int64_t ahead = row_offset(a, g, t + kPrefetchKeys);
          for (int64_t b = 0; b < row_bytes; b += 64) {
            __builtin_prefetch(a.k + ahead + b);
            __builtin_prefetch(a.v + ahead + b);
          }
        }
        const int64_t offset = row_offset(a, g, t);
        if (a.f16) {
          float* kd = a.k_tile + int64_t{j} * a.tile_stride;
          float* vd = a.v_tile + int64_t{j} * a.tile_stride;
          Ops::from_f16(reinterpret_cast<const uint16_t*>(a.k + offset), kd, hd);
          Ops::from_f16(reinterpret_cast<const uint16_t*>(a.v + offset), vd, hd);
          k_rows[j] = kd;
          v_rows[j] = vd;
        } else {
          k_rows[j] = reinterpret_cast<const float*>(a.k + offset);
          v_rows[j] = reinterpret_cast<const float*>(a.v + offset);
        }
      }
      for (int32_t i = 0; i < a.n_queries; ++i) {
        const int64_t visible = a.first_pos + i + 1 - t0;  // causal: keys 0 .. first_pos + i
        if (visible <= 0) continue;
        const int32_t n = visible < n_tile ? static_cast<int32_t>(visible) : n_tile;
        for (int32_t r = 0; r < n_rep; ++r) {
          const int64_t at = (int64_t{i} * a.n_heads + g * n_rep + r) * hd;
          const int32_t row = i * n_rep + r;
          Ops::dots(a.q + at, k_rows, n, hd, a.scale, a.scores);
          const float tile_max = Ops::max(a.scores, n);
          const float m_old = a.row_max[row];
          const float m_new = tile_max > m_old ? tile_max : m_old;
          const float c = m_old == -__builtin_inff() ? 0.0f : expf(m_old - m_new);
          const float sum = Ops::exp_shift(a.scores, n, m_new);
          a.row_sum[row] = a.row_sum[row] * c + sum;
          a.row_max[row] = m_new;
          Ops::scale_add(a.out + at, c, a.scores, v_rows, n, hd);
        }
      }
    }
    for (int32_t i = 0; i < a.n_queries; ++i)
      for (int32_t r = 0; r < n_rep; ++r)
        Ops::scale(a.out + (int64_t{i} * a.n_heads + g * n_rep + r) * hd, 1.0f / a.row_sum[i * n_rep + r], hd);
  }
}

}  // namespace
}  // namespace helix::paged_attention_detail
