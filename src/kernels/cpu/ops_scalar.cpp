// Scalar reference of the element-wise kernels and the activation quantizer. The SIMD files follow
// these operation for operation; tests hold them to bit equality.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <immintrin.h>

#include "kernels/cpu/exp_constants.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/ops.h"

namespace helix {

float fast_exp(float x) {
  using namespace cpu;
  if (std::isnan(x)) return x;
  if (x > kExpMax) return std::numeric_limits<float>::infinity();
  if (x < kExpMin) return 0.0f;
  const float n = std::nearbyint(x * kLog2e);
  float r = std::fma(n, -kLn2Hi, x);
  r = std::fma(n, -kLn2Lo, r);
  float p = kExpP0;
  p = std::fma(p, r, kExpP1);
  p = std::fma(p, r, kExpP2);
  p = std::fma(p, r, kExpP3);
  p = std::fma(p, r, kExpP4);
  p = std::fma(p, r, kExpP5);
  const float r2 = r * r;
  float y = std::fma(p, r2, r);
  y = y + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

namespace cpu::scalar {
namespace {

// The fixed reduction of 16 partial sums every ISA uses.
float reduce16(float* s) {
  for (int i = 0; i < 8; ++i) s[i] += s[i + 8];
  for (int i = 0; i < 4; ++i) s[i] += s[i + 4];
  for (int i = 0; i < 2; ++i) s[i] += s[i + 2];
  return s[0] + s[1];
}

uint32_t abs_bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits & 0x7fffffffu;
}

}  // namespace

void quantize_activation_row(const float* x, int64_t cols, int8_t* qs, float* scales, int32_t* sums16) {
  for (int64_t b = 0; b < cols / 32; ++b) {
    const float* in = x + 32 * b;
    // Max of |x| by bit pattern: the same answer as a float max, and NaN wins deterministically.
    uint32_t amax_bits = 0;
    for (int i = 0; i < 32; ++i) amax_bits = std::max(amax_bits, abs_bits(in[i]));
    float amax;
    std::memcpy(&amax, &amax_bits, sizeof amax);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    scales[b] = d;
    for (int h = 0; h < 2; ++h) {
      int32_t sum = 0;
      for (int i = 16 * h; i < 16 * h + 16; ++i) {
        // cvtss2si rounds to nearest even and gives INT32_MIN for NaN, like the vector converts.
        const int32_t q = _mm_cvtss_si32(_mm_set_ss(in[i] * id));
        const int8_t q8 = static_cast<int8_t>(std::clamp<int32_t>(q, -128, 127));
        qs[32 * b + i] = q8;
        sum += q8;
      }
      sums16[2 * b + h] = sum;
    }
  }
}

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  float s[16] = {};
  for (int64_t i = 0; i < n; ++i) s[i % 16] = std::fma(x[i], x[i], s[i % 16]);
  float ss = reduce16(s);
  ss = ss / static_cast<float>(n) + eps;
  const float inv = 1.0f / std::sqrt(ss);
  for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * (inv * x[i]);
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  float s[16] = {};
  for (int64_t i = 0; i < n; ++i) {
    x[i] = fast_exp(x[i] - max);
    s[i % 16] += x[i];
  }
  const float sum = reduce16(s);
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / sum;
}

void swiglu(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = (g * (1.0f / (1.0f + fast_exp(-g)))) * up[i];
  }
}

int64_t argmax(const float* x, int64_t n) {
  int64_t best = -1;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isnan(x[i]) && (best < 0 || x[i] > x[best])) best = i;
  return best < 0 ? 0 : best;
}

uint64_t stream_read(const void* data, int64_t bytes) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t sum = 0;
  int64_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, sizeof word);
    sum += word;
  }
  for (; i < bytes; ++i) sum += p[i];
  return sum;
}

}  // namespace cpu::scalar
}  // namespace helix
