#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/kernel_table.h"

namespace helix {
namespace {

constexpr Isa kSimdIsas[] = {Isa::Avx2, Isa::Avx512};

std::vector<float> random_values(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0) ia = std::numeric_limits<int32_t>::min() - ia;
  if (ib < 0) ib = std::numeric_limits<int32_t>::min() - ib;
  return std::llabs(static_cast<int64_t>(ia) - ib);
}

TEST(Ops, FastExpAccuracy) {
  int64_t worst = 0;
  for (float x = -87.0f; x < 88.3f; x += 0.00731f) {
    const float exact = static_cast<float>(std::exp(static_cast<double>(x)));
    worst = std::max(worst, ulp_distance(fast_exp(x), exact));
  }
  EXPECT_LE(worst, 2);
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
  EXPECT_EQ(fast_exp(-100.0f), 0.0f);
  EXPECT_EQ(fast_exp(89.0f), std::numeric_limits<float>::infinity());
  EXPECT_EQ(fast_exp(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(fast_exp(NAN)));
}

TEST(Ops, RmsnormMatchesDefinitionAndIsas) {
  for (int64_t n : {1, 7, 16, 37, 2048}) {
    const std::vector<float> x = random_values(n, 1, 2.0f), w = random_values(n, 2, 1.0f);
    std::vector<float> ref(static_cast<size_t>(n));
    rmsnorm(Isa::Scalar, ref.data(), x.data(), w.data(), n, 1e-5f);
    double ss = 0.0;
    for (float v : x) ss += static_cast<double>(v) * v;
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-5);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(ref[i], w[i] * x[i] * inv, 1e-5 * std::fabs(w[i] * x[i] * inv) + 1e-30);
    for (Isa isa : kSimdIsas) {
      if (!isa_supported(isa)) continue;
      std::vector<float> out(static_cast<size_t>(n));
      rmsnorm(isa, out.data(), x.data(), w.data(), n, 1e-5f);
      EXPECT_EQ(out, ref) << isa_name(isa) << " n=" << n;
    }
  }
  // In place.
  std::vector<float> x = {3.0f, 4.0f}, w = {1.0f, 1.0f};
  rmsnorm(x.data(), x.data(), w.data(), 2, 0.0f);  // mean square 12.5
  EXPECT_NEAR(x[0], 3.0f / std::sqrt(12.5f), 1e-6);
  EXPECT_NEAR(x[1], 4.0f / std::sqrt(12.5f), 1e-6);
}

TEST(Ops, SoftmaxMatchesDefinitionAndIsas) {
  for (int64_t n : {1, 5, 16, 33, 1000}) {
    std::vector<float> x = random_values(n, 3, 4.0f);
    std::vector<float> ref = x;
    softmax(Isa::Scalar, ref.data(), n);
    double max = -INFINITY, sum = 0.0;
    for (float v : x) max = std::max(max, static_cast<double>(v));
    for (float v : x) sum += std::exp(v - max);
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(ref[i], std::exp(x[i] - max) / sum, 1e-6);
    for (Isa isa : kSimdIsas) {
      if (!isa_supported(isa)) continue;
      std::vector<float> out = x;
      softmax(isa, out.data(), n);
      EXPECT_EQ(out, ref) << isa_name(isa) << " n=" << n;
    }
  }
  // exp(0), exp(-ln 3) -> 3/4, 1/4; a very negative score gives exactly 0.
  std::vector<float> x = {0.0f, -std::log(3.0f), -1000.0f};
  softmax(x.data(), 3);
  EXPECT_NEAR(x[0], 0.75f, 1e-7);
  EXPECT_NEAR(x[1], 0.25f, 1e-7);
  EXPECT_EQ(x[2], 0.0f);
}

TEST(Ops, SwigluMatchesDefinitionAndIsas) {
  for (int64_t n : {1, 9, 16, 100, 5632}) {
    const std::vector<float> g = random_values(n, 4, 3.0f), u = random_values(n, 5, 1.0f);
    std::vector<float> ref(static_cast<size_t>(n));
    swiglu(Isa::Scalar, ref.data(), g.data(), u.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double silu = g[i] / (1.0 + std::exp(-static_cast<double>(g[i])));
      EXPECT_NEAR(ref[i], silu * u[i], 1e-6 * std::fabs(silu * u[i]) + 1e-30);
    }
    for (Isa isa : kSimdIsas) {
      if (!isa_supported(isa)) continue;
      std::vector<float> out(static_cast<size_t>(n));
      swiglu(isa, out.data(), g.data(), u.data(), n);
      EXPECT_EQ(out, ref) << isa_name(isa) << " n=" << n;
    }
  }
  // silu(0) = 0, silu(-100) ~ 0, in place over gate.
  std::vector<float> g = {0.0f, -100.0f, 1.0f}, u = {5.0f, 5.0f, 2.0f};
  swiglu(g.data(), g.data(), u.data(), 3);
  EXPECT_EQ(g[0], 0.0f);
  EXPECT_NEAR(g[1], 0.0f, 1e-30);
  EXPECT_NEAR(g[2], 2.0f / (1.0f + std::exp(-1.0f)), 1e-6);  // 1.4621172
}

TEST(Ops, ArgmaxFirstOfTiesSkipsNan) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    std::vector<float> x(37, 1.0f);
    x[20] = 5.0f;
    x[30] = 5.0f;
    x[3] = NAN;
    EXPECT_EQ(argmax(isa, x.data(), 37), 20) << isa_name(isa);
    x[36] = 6.0f;  // in the tail
    EXPECT_EQ(argmax(isa, x.data(), 37), 36) << isa_name(isa);
    std::vector<float> nans(9, NAN);
    EXPECT_EQ(argmax(isa, nans.data(), 9), 0) << isa_name(isa);
    std::vector<float> neg(20, -std::numeric_limits<float>::infinity());
    neg[0] = NAN;
    EXPECT_EQ(argmax(isa, neg.data(), 20), 1) << isa_name(isa);
    const std::vector<float> r = random_values(32000, 6, 1.0f);
    int64_t best = 0;
    for (int64_t i = 1; i < 32000; ++i)
      if (r[i] > r[best]) best = i;
    EXPECT_EQ(argmax(isa, r.data(), 32000), best) << isa_name(isa);
  }
}

// The bandwidth probe's read loop must read every byte (its checksum depends on each one): in both streams of
// the AVX-512 pairs of 16 KiB blocks, in the 256-byte loop after the last pair and in the byte tail.
TEST(Ops, StreamReadReadsEveryByte) {
  const int64_t bytes = 3 * 32768 + 3 * 256 + 37;
  std::vector<uint8_t> buffer(static_cast<size_t>(bytes));
  for (int64_t i = 0; i < bytes; ++i) buffer[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 7);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    const auto read = [&] { return cpu::kernels_for(isa).stream_read(buffer.data(), bytes); };
    const uint64_t base = read();
    for (int64_t at : {int64_t{0}, int64_t{16383}, int64_t{16384}, int64_t{32767}, int64_t{40000}, int64_t{98304},
                       int64_t{99071}, bytes - 1}) {
      buffer[static_cast<size_t>(at)] += 1;
      EXPECT_NE(read(), base) << isa_name(isa) << " byte " << at;
      buffer[static_cast<size_t>(at)] -= 1;
    }
    EXPECT_EQ(read(), base) << isa_name(isa);
  }
}

TEST(Ops, RopeAdjacentPairs) {
  // 2 heads of 4 at position 1, base 10000: pair 0 turns by 1 rad, pair 1 by 10000^(-2/4) = 0.01 rad.
  std::vector<float> v = {1.0f, 0.0f, 0.0f, 1.0f, 2.0f, 0.0f, 0.0f, 2.0f};
  rope_adjacent_pairs(v.data(), 2, 4, 1, 10000.0f);
  EXPECT_NEAR(v[0], 0.5403023f, 1e-6);   // cos 1
  EXPECT_NEAR(v[1], 0.8414710f, 1e-6);   // sin 1
  EXPECT_NEAR(v[2], -0.0099998f, 1e-6);  // -sin 0.01
  EXPECT_NEAR(v[3], 0.99995f, 1e-6);     // cos 0.01
  EXPECT_NEAR(v[4], 2 * 0.5403023f, 1e-6);
  EXPECT_NEAR(v[7], 2 * 0.99995f, 1e-6);
  // Position 0 is the identity.
  std::vector<float> w = {0.3f, -0.7f, 1.1f, 2.0f};
  rope_adjacent_pairs(w.data(), 1, 4, 0, 10000.0f);
  EXPECT_EQ(w, (std::vector<float>{0.3f, -0.7f, 1.1f, 2.0f}));
}

TEST(Ops, AddInplace) {
  std::vector<float> a = {1.0f, 2.0f, 3.0f}, b = {0.5f, -2.0f, 10.0f};
  add_inplace(a.data(), b.data(), 3);
  EXPECT_EQ(a, (std::vector<float>{1.5f, 0.0f, 13.0f}));
}

}  // namespace
}  // namespace helix
