#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "kernels/dequantize.h"
#include "kernels/quantize.h"
#include "kernels/thread_pool.h"

namespace helix {
namespace {

constexpr Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};
constexpr DType kAllTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                               DType::Q4_0, DType::Q4_K, DType::Q6_K};

bool is_quantized(DType d) { return d == DType::Q8_0 || d == DType::Q4_0 || d == DType::Q4_K || d == DType::Q6_K; }

// 64-byte aligned storage, as prepack wants.
struct AlignedFree {
  void operator()(uint8_t* p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<uint8_t, AlignedFree>;
AlignedBytes aligned_bytes(int64_t n) {
  return AlignedBytes(static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>((n + 63) / 64 * 64))));
}

// A random matrix stored in `dtype`, plus its exact f32 values (dequantized back).
struct TestMatrix {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // [rows][cols]
  WeightMatrix w;
};

TestMatrix make_matrix(DType dtype, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.5f);
  TestMatrix m;
  const int64_t rb = dtype_bytes_for(dtype, cols);
  m.bytes.resize(static_cast<size_t>(rows * rb));
  m.values.resize(static_cast<size_t>(rows * cols));
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = dist(rng);
    if (r % 7 == 3) row[0] = 6.0f;  // outliers stretch some block scales
    quantize_row(dtype, row.data(), m.bytes.data() + r * rb, cols);
    dequantize_row(dtype, m.bytes.data() + r * rb, m.values.data() + r * cols, cols);
  }
  m.w = WeightMatrix{dtype, m.bytes.data(), rows, cols};
  return m;
}

std::vector<float> make_input(int64_t n_tokens, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n_tokens * cols));
  for (float& v : x) v = dist(rng);
  if (!x.empty()) x[0] = 0.0f;
  return x;
}

std::vector<float> run(Isa isa, const WeightMatrix& w, const std::vector<float>& x, int64_t n_tokens, ThreadPool& pool) {
  std::vector<float> y(static_cast<size_t>(n_tokens * w.rows), NAN);
  matmul(isa, w, x.data(), n_tokens, y.data(), pool);
  return y;
}

// Bound on |y - exact| for one output. Quantized paths round each activation to a multiple of its
// block scale d (error <= d / 2 per value), then sum exactly in int32 and accumulate in f32; float
// paths only accumulate in f32 (cols products, <= cols * 2^-24 relative each, and the 16-way tree).
double error_bound(const TestMatrix& m, const std::vector<float>& x, int64_t t, int64_t r, bool quantized) {
  const int64_t cols = m.w.cols;
  const float* xt = x.data() + t * cols;
  const float* wr = m.values.data() + r * cols;
  double abs_sum = 0.0, act_err = 0.0;
  for (int64_t b = 0; b < cols; b += 32) {
    double amax = 0.0;
    for (int64_t k = b; k < std::min(b + 32, cols); ++k) amax = std::max(amax, std::fabs(static_cast<double>(xt[k])));
    const double d = amax / 127.0;
    for (int64_t k = b; k < std::min(b + 32, cols); ++k) {
      abs_sum += std::fabs(static_cast<double>(wr[k]) * xt[k]);
      if (quantized) act_err += std::fabs(static_cast<double>(wr[k])) * (0.5 * d * 1.001 + std::fabs(xt[k]) * 1e-6);
    }
  }
  return act_err + 2.0 * static_cast<double>(cols + 16) * 0x1p-24 * (abs_sum + act_err) + 1e-30;
}

void check_shape(DType dtype, int64_t rows, int64_t cols, const std::vector<int64_t>& token_counts, int threads) {
  ThreadPool pool(threads);
  const TestMatrix m = make_matrix(dtype, rows, cols, static_cast<uint32_t>(rows * 131 + cols));
  for (int64_t n : token_counts) {
    const std::vector<float> x = make_input(n, cols, static_cast<uint32_t>(n * 7 + cols));
    const std::vector<float> ref = run(Isa::Scalar, m.w, x, n, pool);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double exact = 0.0;
        for (int64_t k = 0; k < cols; ++k) exact += static_cast<double>(m.values[r * cols + k]) * x[t * cols + k];
        const double got = ref[t * rows + r];
        ASSERT_LE(std::fabs(got - exact), error_bound(m, x, t, r, is_quantized(dtype)))
            << dtype_name(dtype) << " [" << rows << "x" << cols << "] token " << t << " row " << r;
      }
    }
    for (Isa isa : kAllIsas) {
      if (isa == Isa::Scalar || !isa_supported(isa)) continue;
      const std::vector<float> y = run(isa, m.w, x, n, pool);
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_EQ(y[i], ref[i]) << isa_name(isa) << " " << dtype_name(dtype) << " [" << rows << "x" << cols
                                << "] n_tokens " << n << " threads " << threads << " token " << i / rows
                                << " row " << i % rows;
      const int64_t packed_bytes = prepacked_bytes(m.w, isa);
      if (packed_bytes == 0) continue;
      // The prepacked layout: the same numbers, read from the copy (the file's bytes are poisoned first).
      std::vector<uint8_t> raw_copy = m.bytes;
      const AlignedBytes packed = aligned_bytes(packed_bytes);
      const WeightMatrix source{dtype, raw_copy.data(), rows, cols};
      const WeightMatrix packed_w = prepack(source, isa, packed.get(), pool);
      std::fill(raw_copy.begin(), raw_copy.end(), uint8_t{0x5a});
      const std::vector<float> yp = run(isa, packed_w, x, n, pool);
      for (size_t i = 0; i < yp.size(); ++i)
        ASSERT_EQ(yp[i], ref[i]) << "prepacked " << isa_name(isa) << " " << dtype_name(dtype) << " [" << rows
                                 << "x" << cols << "] n_tokens " << n << " threads " << threads << " token "
                                 << i / rows << " row " << i % rows;
    }
  }
}

std::vector<int64_t> all_token_counts() {
  std::vector<int64_t> counts;
  for (int64_t n = 1; n <= 17; ++n) counts.push_back(n);
  counts.push_back(33);
  return counts;
}

// Every ISA against the scalar reference (bit for bit) and the scalar reference against exact f64
// sums of the dequantized weights (within the bound above), with rows that are not a multiple of any
// tile, every token count from 1 to 17 and 33, and 1 to 3 threads.
TEST(Matmul, Q8_0AndQ4_0AllIsas) {
  for (DType dtype : {DType::Q8_0, DType::Q4_0}) {
    check_shape(dtype, 37, 96, all_token_counts(), 2);
    check_shape(dtype, 16, 32, {1, 2, 16, 17}, 1);
    check_shape(dtype, 5, 64, {1, 3, 20}, 3);
    check_shape(dtype, 50, 288, {1, 16, 18}, 3);  // 288 = 256 + 32: a partial packing chunk
    // Whole 256-column chunks with few tokens (the AVX-512 decode path), plus a partial chunk.
    check_shape(dtype, 37, 512, {1, 2, 3, 4, 5}, 2);
    check_shape(dtype, 19, 832, {1, 3}, 1);
  }
}

// The AVX-512 prepacked layout keeps the file's size when rows and columns fill whole panels (16 rows) and
// chunks (256 columns): per 16 x 256 chunk, 8 x 32 bytes of fp16 scales + 8 blocks of codes (q8_0: 8 x 512,
// q4_0: 8 x 256) = 4352 / 2304 bytes = 16 rows x 8 blocks x 34 / 18 bytes. Partial chunks pad the scale
// region to 64 bytes and partial panels to 16 rows.
TEST(Matmul, PrepackedLayoutSize) {
  if (!isa_supported(Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::Q8_0, nullptr, 32, 512}, Isa::Avx512), 32 * 16 * 34);
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::Q4_0, nullptr, 32, 512}, Isa::Avx512), 32 * 16 * 18);
  // 37 rows -> 3 panels; 288 columns = a whole chunk (4352) + one block (64 + 512).
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::Q8_0, nullptr, 37, 288}, Isa::Avx512), 3 * (4352 + 64 + 512));
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::Q4_0, nullptr, 37, 288}, Isa::Avx512), 3 * (2304 + 64 + 256));
  // Types read in place, and ISAs without a layout.
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::Q4_K, nullptr, 32, 512}, Isa::Avx512), 0);
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::F16, nullptr, 32, 512}, Isa::Avx512), 0);
  EXPECT_EQ(prepacked_bytes(WeightMatrix{DType::Q8_0, nullptr, 32, 512}, Isa::Scalar), 0);
}

// One quantization and one dispatch for several matrices gives what separate calls give, bit for bit,
// prepacked or not, and for mixed types (which fall back to separate calls). Matrices of the first one's type
// share its activation-side buffers: b (in place) and d (prepacked) read what a built.
TEST(Matmul, SharedInputMatchesSeparateCalls) {
  ThreadPool pool(2);
  const int64_t cols = 288;
  for (int64_t n : {1, 3, 17}) {
    const std::vector<float> x = make_input(n, cols, static_cast<uint32_t>(n));
    for (bool mixed : {false, true}) {
      TestMatrix a = make_matrix(DType::Q8_0, 64, cols, 1);
      TestMatrix b = make_matrix(mixed ? DType::F16 : DType::Q8_0, 37, cols, 2);
      TestMatrix c = make_matrix(DType::Q4_0, 16, cols, 3);
      TestMatrix d = make_matrix(DType::Q8_0, 48, cols, 4);
      AlignedBytes packed_a, packed_d;
      if (const int64_t bytes = prepacked_bytes(a.w, active_isa()); bytes > 0) {
        packed_a = aligned_bytes(bytes);
        a.w = prepack(a.w, active_isa(), packed_a.get(), pool);
        packed_d = aligned_bytes(prepacked_bytes(d.w, active_isa()));
        d.w = prepack(d.w, active_isa(), packed_d.get(), pool);
      }
      std::vector<float> ya(static_cast<size_t>(n * 64)), yb(static_cast<size_t>(n * 37)),
          yc(static_cast<size_t>(n * 16)), yd(static_cast<size_t>(n * 48));
      const MatmulOutput outputs[] = {{&a.w, ya.data()}, {&b.w, yb.data()}, {&c.w, yc.data()}, {&d.w, yd.data()}};
      matmul_shared_input(outputs, x.data(), n, pool);
      EXPECT_EQ(ya, run(active_isa(), a.w, x, n, pool)) << n << (mixed ? " mixed" : "");
      EXPECT_EQ(yb, run(active_isa(), b.w, x, n, pool)) << n << (mixed ? " mixed" : "");
      EXPECT_EQ(yc, run(active_isa(), c.w, x, n, pool)) << n << (mixed ? " mixed" : "");
      EXPECT_EQ(yd, run(active_isa(), d.w, x, n, pool)) << n << (mixed ? " mixed" : "");
    }
  }
}

TEST(Matmul, KQuantsAllIsas) {
  for (DType dtype : {DType::Q4_K, DType::Q6_K}) {
    check_shape(dtype, 37, 256, all_token_counts(), 2);
    check_shape(dtype, 19, 512, {1, 4, 16, 17}, 3);
    check_shape(dtype, 3, 768, {1, 33}, 1);
  }
}

TEST(Matmul, FloatTypesAllIsas) {
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    check_shape(dtype, 37, 64, all_token_counts(), 2);
    check_shape(dtype, 7, 37, {1, 2, 5, 6, 11}, 3);  // columns not a multiple of 16
    check_shape(dtype, 9, 256, {1, 17}, 1);
    check_shape(dtype, 4, 3, {1, 4}, 2);
  }
}

// A token's output does not depend on which other tokens share the call or on the thread count.
TEST(Matmul, BatchAndThreadInvariance) {
  for (DType dtype : kAllTypes) {
    const int64_t cols = is_quantized(dtype) && (dtype == DType::Q4_K || dtype == DType::Q6_K) ? 256 : 64;
    const TestMatrix m = make_matrix(dtype, 40, cols, 99);
    const int64_t n = 21;
    const std::vector<float> x = make_input(n, cols, 5);
    ThreadPool pool3(3), pool1(1);
    std::vector<float> batched(static_cast<size_t>(n * 40));
    matmul(m.w, x.data(), n, batched.data(), pool3);
    for (int64_t t = 0; t < n; ++t) {
      std::vector<float> alone(40);
      matmul(m.w, x.data() + t * cols, 1, alone.data(), pool1);
      for (int64_t r = 0; r < 40; ++r) ASSERT_EQ(alone[r], batched[t * 40 + r]) << dtype_name(dtype) << " " << t << " " << r;
    }
  }
}

TEST(Matmul, RowsSliceAndPreQuantized) {
  ThreadPool pool(2);
  for (DType dtype : kAllTypes) {
    const int64_t cols = dtype == DType::Q4_K || dtype == DType::Q6_K ? 256 : 96;
    const TestMatrix m = make_matrix(dtype, 45, cols, 7);
    const int64_t n = 3;
    const std::vector<float> x = make_input(n, cols, 8);
    std::vector<float> full(static_cast<size_t>(n * 45));
    matmul(m.w, x.data(), n, full.data(), pool);
    // Rows 10..29 into a buffer with row stride 25.
    std::vector<float> slice(static_cast<size_t>(n * 25), -1.0f);
    matmul_rows(m.w, 10, 30, x.data(), n, slice.data(), 25, pool);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 10; r < 30; ++r) ASSERT_EQ(slice[t * 25 + r - 10], full[t * 45 + r]) << dtype_name(dtype);
      for (int64_t c = 20; c < 25; ++c) ASSERT_EQ(slice[t * 25 + c], -1.0f) << "wrote past the slice";
    }
    if (is_quantized(dtype)) {
      QuantizedActivations q;
      quantize_activations(x.data(), n, cols, &q, &pool);
      std::vector<float> again(full.size());
      matmul(m.w, q, again.data(), pool);
      EXPECT_EQ(again, full) << dtype_name(dtype);
    }
  }
}

TEST(Matmul, RowHelpers) {
  const TestMatrix m = make_matrix(DType::Q8_0, 4, 64, 3);
  EXPECT_EQ(row_bytes(m.w), 68);  // 2 blocks of 34
  EXPECT_EQ(row_data(m.w, 3), m.bytes.data() + 3 * 68);
}

}  // namespace
}  // namespace helix
