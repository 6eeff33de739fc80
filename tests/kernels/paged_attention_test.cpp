// Paged attention against a naive contiguous attention in double precision: the same K/V, scattered over
// random non-contiguous blocks with padded strides, every unused slot poisoned with NaN so a stray read
// shows. Each code path (scalar, AVX2, AVX-512 where the CPU has them) is checked.
//
// Tolerances, stated: |paged - naive| <= 2e-6 and |ISA path - scalar| <= 2e-6 per output value. Inputs are
// uniform in [-1, 1], so outputs are convex combinations of values in [-1, 1]; f32 accumulation over up to
// 300 keys of up to 64 products leaves errors around 2e-7 (printed by the tests). The f16 cases compare against the f16-rounded K/V.
#include "kernels/cpu/paged_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "common/fp16.h"

namespace helix {
namespace {

constexpr double kTolerance = 2e-6;  // both |paged - naive| and |ISA path - scalar|

struct Shape {
  int32_t n_heads, n_kv_heads, head_dim;
};

// One layer of K/V for n_ctx tokens in a paged buffer, plus the same values contiguously.
struct Paged {
  std::vector<std::byte> memory;
  PagedKv kv;
  std::vector<int32_t> table;
  std::vector<float> k, v;  // [n_ctx][n_kv_heads][head_dim], as stored (f16-rounded for f16)
};

Paged make_paged(std::mt19937& rng, int64_t n_ctx, int32_t block_size, Shape s, DType dtype) {
  Paged p;
  const int64_t elem = dtype == DType::F16 ? 2 : 4;
  const int64_t n_blocks = (n_ctx + block_size - 1) / block_size;
  const int64_t pool_blocks = 2 * n_blocks + 3;
  // Padded strides: nothing in the kernel may assume rows, heads or blocks are packed.
  p.kv.dtype = dtype;
  p.kv.block_size = block_size;
  p.kv.n_kv_heads = s.n_kv_heads;
  p.kv.head_dim = s.head_dim;
  p.kv.slot_stride_bytes = s.head_dim * elem + 4 * elem;
  p.kv.head_stride_bytes = block_size * p.kv.slot_stride_bytes + 64;
  const int64_t half = s.n_kv_heads * p.kv.head_stride_bytes;
  p.kv.block_stride_bytes = 2 * half + 128;
  p.memory.resize(static_cast<size_t>(pool_blocks * p.kv.block_stride_bytes));
  // Poison everything; only written slots hold numbers.
  if (dtype == DType::F16) {
    const uint16_t nan = 0x7e00;
    for (size_t i = 0; i + 1 < p.memory.size(); i += 2) std::memcpy(&p.memory[i], &nan, 2);
  } else {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (size_t i = 0; i + 3 < p.memory.size(); i += 4) std::memcpy(&p.memory[i], &nan, 4);
  }
  p.kv.k = p.memory.data();
  p.kv.v = p.memory.data() + half;
  std::vector<int32_t> ids(static_cast<size_t>(pool_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  p.table.assign(ids.begin(), ids.begin() + n_blocks);

  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const size_t per_token = static_cast<size_t>(s.n_kv_heads) * static_cast<size_t>(s.head_dim);
  p.k.resize(static_cast<size_t>(n_ctx) * per_token);
  p.v.resize(p.k.size());
  for (int64_t t = 0; t < n_ctx; ++t) {
    const int64_t block = p.table[static_cast<size_t>(t / block_size)];
    for (int32_t g = 0; g < s.n_kv_heads; ++g) {
      for (int32_t d = 0; d < s.head_dim; ++d) {
        const size_t at = static_cast<size_t>(t) * per_token + static_cast<size_t>(g * s.head_dim + d);
        const int64_t off = block * p.kv.block_stride_bytes + g * p.kv.head_stride_bytes +
                            (t % block_size) * p.kv.slot_stride_bytes + d * elem;
        for (int side = 0; side < 2; ++side) {
          float x = u(rng);
          std::byte* dst = p.memory.data() + off + (side ? half : 0);
          if (dtype == DType::F16) {
            const uint16_t h = f32_to_fp16(x);
            x = fp16_to_f32(h);
            std::memcpy(dst, &h, 2);
          } else {
            std::memcpy(dst, &x, 4);
          }
          (side ? p.v : p.k)[at] = x;
        }
      }
    }
  }
  return p;
}

// Direct softmax attention in double over the contiguous copy.
std::vector<double> naive(const std::vector<float>& q, int32_t n_queries, int64_t first_pos, Shape s,
                          const Paged& p) {
  const int32_t n_rep = s.n_heads / s.n_kv_heads;
  const size_t per_token = static_cast<size_t>(s.n_kv_heads) * static_cast<size_t>(s.head_dim);
  std::vector<double> out(q.size());
  for (int32_t i = 0; i < n_queries; ++i) {
    const int64_t n_keys = first_pos + i + 1;
    for (int32_t h = 0; h < s.n_heads; ++h) {
      const int32_t g = h / n_rep;
      const float* qh = q.data() + (static_cast<size_t>(i) * s.n_heads + h) * s.head_dim;
      std::vector<double> w(static_cast<size_t>(n_keys));
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t t = 0; t < n_keys; ++t) {
        double dot = 0;
        for (int32_t d = 0; d < s.head_dim; ++d)
          dot += double{qh[d]} * p.k[static_cast<size_t>(t) * per_token + static_cast<size_t>(g * s.head_dim + d)];
        w[static_cast<size_t>(t)] = dot / std::sqrt(static_cast<double>(s.head_dim));
        mx = std::max(mx, w[static_cast<size_t>(t)]);
      }
      double sum = 0;
      for (double& x : w) sum += (x = std::exp(x - mx));
      for (int32_t d = 0; d < s.head_dim; ++d) {
        double o = 0;
        for (int64_t t = 0; t < n_keys; ++t)
          o += w[static_cast<size_t>(t)] *
               p.v[static_cast<size_t>(t) * per_token + static_cast<size_t>(g * s.head_dim + d)];
        out[(static_cast<size_t>(i) * s.n_heads + h) * s.head_dim + d] = o / sum;
      }
    }
  }
  return out;
}

std::vector<AttentionIsa> isas() {
  std::vector<AttentionIsa> out;
  for (AttentionIsa isa : {AttentionIsa::Scalar, AttentionIsa::Avx2, AttentionIsa::Avx512})
    if (attention_isa_supported(isa)) out.push_back(isa);
  return out;
}

std::vector<float> run(AttentionIsa isa, const std::vector<float>& q, int32_t n_queries, int64_t first_pos, Shape s,
                       const Paged& p) {
  AttentionQueries queries;
  queries.q = q;
  queries.n_queries = n_queries;
  queries.n_heads = s.n_heads;
  queries.first_pos = first_pos;
  std::vector<float> out(q.size(), -7.0f);
  paged_attention_isa(isa, queries, p.kv, p.table, out);
  return out;
}

std::vector<float> random_q(std::mt19937& rng, size_t n, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> q(n);
  for (float& x : q) x = u(rng);
  return q;
}

// Checks one case on every path; returns the largest errors seen.
void check_case(std::mt19937& rng, int64_t n_ctx, int32_t n_queries, int32_t block_size, Shape s, DType dtype,
                double* worst_naive, double* worst_isa, float q_scale = 1.0f, double tolerance = kTolerance) {
  const Paged p = make_paged(rng, n_ctx, block_size, s, dtype);
  const int64_t first_pos = n_ctx - n_queries;
  const auto q = random_q(rng, static_cast<size_t>(n_queries) * s.n_heads * s.head_dim, q_scale);
  const auto want = naive(q, n_queries, first_pos, s, p);
  const auto scalar = run(AttentionIsa::Scalar, q, n_queries, first_pos, s, p);
  for (AttentionIsa isa : isas()) {
    const auto got = isa == AttentionIsa::Scalar ? scalar : run(isa, q, n_queries, first_pos, s, p);
    for (size_t i = 0; i < got.size(); ++i) {
      const double e_naive = std::abs(got[i] - want[i]);
      const double e_isa = std::abs(double{got[i]} - scalar[i]);
      *worst_naive = std::max(*worst_naive, e_naive);
      *worst_isa = std::max(*worst_isa, e_isa);
      ASSERT_LE(e_naive, tolerance)
          << attention_isa_name(isa) << " " << dtype_name(dtype) << " ctx " << n_ctx << " queries " << n_queries
          << " block " << block_size << " heads " << s.n_heads << "/" << s.n_kv_heads << " dim " << s.head_dim
          << " value " << i << ": " << got[i] << " vs " << want[i];
      ASSERT_LE(e_isa, tolerance) << attention_isa_name(isa) << " vs scalar, value " << i;
    }
  }
}

const Shape kShapes[] = {
    {4, 4, 64},   // MHA
    {8, 2, 64},   // GQA, 4 query heads per KV head
    {32, 4, 64},  // TinyLlama
    {6, 3, 40},   // head_dim with a 16-lane tail of 8
    {2, 1, 13},   // odd head_dim: every path's scalar / masked tail
};

TEST(PagedAttention, DecodeMatchesNaiveAttention) {
  std::mt19937 rng(1234);
  double worst_naive = 0, worst_isa = 0;
  for (int32_t block_size : {1, 16, 64})
    for (const Shape& s : kShapes)
      for (DType dtype : {DType::F32, DType::F16})
        for (int64_t n_ctx : {1, 2, 15, 16, 17, 33, 64, 65, 130, 300}) {
          check_case(rng, n_ctx, 1, block_size, s, dtype, &worst_naive, &worst_isa);
          if (HasFatalFailure()) return;
        }
  std::printf("decode: worst |paged - naive| %.3g, worst |isa - scalar| %.3g\n", worst_naive, worst_isa);
}

TEST(PagedAttention, MultiQueryPrefillIsCausal) {
  std::mt19937 rng(99);
  double worst_naive = 0, worst_isa = 0;
  for (int32_t block_size : {1, 16, 64})
    for (const Shape& s : {kShapes[1], kShapes[3], kShapes[4]})
      for (DType dtype : {DType::F32, DType::F16})
        for (auto [n_ctx, n_queries] : {std::pair{1, 1}, {20, 20}, {20, 7}, {70, 70}, {300, 37}, {300, 300}}) {
          check_case(rng, n_ctx, n_queries, block_size, s, dtype, &worst_naive, &worst_isa);
          if (HasFatalFailure()) return;
        }
  std::printf("prefill: worst |paged - naive| %.3g, worst |isa - scalar| %.3g\n", worst_naive, worst_isa);
}

TEST(PagedAttention, PrefillRowsEqualDecodeAtTheirPositionBitForBit) {
  std::mt19937 rng(5);
  const Shape s{8, 2, 64};
  for (DType dtype : {DType::F32, DType::F16}) {
    const Paged p = make_paged(rng, 50, 16, s, dtype);
    const int32_t n_queries = 19;
    const int64_t first_pos = 50 - n_queries;
    const auto q = random_q(rng, static_cast<size_t>(n_queries) * s.n_heads * s.head_dim);
    for (AttentionIsa isa : isas()) {
      const auto all = run(isa, q, n_queries, first_pos, s, p);
      const size_t row = static_cast<size_t>(s.n_heads) * s.head_dim;
      for (int32_t i = 0; i < n_queries; ++i) {
        const std::vector<float> qi(q.begin() + static_cast<ptrdiff_t>(i * row),
                                    q.begin() + static_cast<ptrdiff_t>((i + 1) * row));
        const auto one = run(isa, qi, 1, first_pos + i, s, p);
        ASSERT_EQ(0, std::memcmp(one.data(), all.data() + i * row, row * sizeof(float)))
            << attention_isa_name(isa) << " query " << i;
      }
    }
  }
}

TEST(PagedAttention, LargeScoresStayFinite) {
  // Scores up to about +-40: exp without the running max would overflow f32 after a few keys. An f32 score
  // of magnitude ~40 carries an absolute rounding error ~40x larger than one of magnitude ~1, and exp turns
  // it into a relative error of the weights, so this case allows 2e-5.
  std::mt19937 rng(77);
  double worst_naive = 0, worst_isa = 0;
  for (DType dtype : {DType::F32, DType::F16})
    for (int64_t n_ctx : {5, 100, 300}) {
      check_case(rng, n_ctx, 3, 16, Shape{4, 2, 64}, dtype, &worst_naive, &worst_isa, /*q_scale=*/40.0f,
                 /*tolerance=*/2e-5);
      if (HasFatalFailure()) return;
    }
}

TEST(PagedAttention, IsaChoice) {
  EXPECT_TRUE(attention_isa_supported(AttentionIsa::Scalar));
  EXPECT_TRUE(attention_isa_supported(attention_isa()));
  EXPECT_EQ(attention_isa_name(AttentionIsa::Avx512), "avx512");
  std::printf("paged attention paths on this CPU:");
  for (AttentionIsa isa : isas()) std::printf(" %s", std::string(attention_isa_name(isa)).c_str());
  std::printf("; chosen: %s\n", std::string(attention_isa_name(attention_isa())).c_str());
}

TEST(PagedAttentionDeathTest, ShortBlockTableAborts) {
  std::mt19937 rng(3);
  const Shape s{4, 4, 16};
  Paged p = make_paged(rng, 40, 16, s, DType::F32);  // 3 blocks
  p.table.pop_back();
  const auto q = random_q(rng, 4 * 16);
  EXPECT_DEATH(run(AttentionIsa::Scalar, q, 1, 39, s, p), "40 tokens need 3 blocks of 16, the table has 2");
}

}  // namespace
}  // namespace helix
