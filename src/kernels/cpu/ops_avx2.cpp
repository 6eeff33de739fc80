// AVX2 element-wise kernels and activation quantizer; operation for operation the scalar ones
// (ops_scalar.cpp), so results are bit-identical. The 16 partial sums of the scalar code are two ymm.
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/exp_constants.h"
#include "kernels/cpu/kernel_table.h"

namespace helix::cpu::avx2 {
namespace {

inline float reduce16(__m256 lo, __m256 hi) {
  const __m256 a = _mm256_add_ps(lo, hi);
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

// Lanes [0, n) set (n may exceed 8).
inline __m256i lane_mask(int64_t n) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int32_t count = static_cast<int32_t>(n > 8 ? 8 : (n < 0 ? 0 : n));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), index);
}

inline __m256 exp8(__m256 x) {
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpMin)), _mm256_set1_ps(kExpMax));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Hi), xc);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP5));
  const __m256 r2 = _mm256_mul_ps(r, r);
  __m256 y = _mm256_fmadd_ps(p, r2, r);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 result = _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
  result = _mm256_blendv_ps(result, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, _mm256_set1_ps(kExpMax), _CMP_GT_OQ));
  result = _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(kExpMin), _CMP_LT_OQ));
  return _mm256_blendv_ps(result, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline uint32_t hmax_epu32(__m256i v) {
  __m128i s = _mm_max_epu32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_max_epu32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_max_epu32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return static_cast<uint32_t>(_mm_cvtsi128_si32(s));
}

inline float hmax_ps(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ps(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

void quantize_activation_row(const float* x, int64_t cols, int8_t* qs, float* scales, int32_t* sums16) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
  for (int64_t b = 0; b < cols / 32; ++b) {
    __m256 v[4];
    __m256i m = _mm256_setzero_si256();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 32 * b + 8 * i);
      m = _mm256_max_epu32(m, _mm256_and_si256(_mm256_castps_si256(v[i]), abs_mask));
    }
    const uint32_t amax_bits = hmax_epu32(m);
    float amax;
    __builtin_memcpy(&amax, &amax_bits, sizeof amax);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    scales[b] = d;
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; ++i)
      q[i] = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v[i], idv)), lo), hi);
    // packs interleave 128-bit lanes; the permute restores value order.
    const __m256i w01 = _mm256_packs_epi32(q[0], q[1]);
    const __m256i w23 = _mm256_packs_epi32(q[2], q[3]);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w01, w23), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs + 32 * b), bytes);
    sums16[2 * b] = hsum_epi32(_mm256_add_epi32(q[0], q[1]));
    sums16[2 * b + 1] = hsum_epi32(_mm256_add_epi32(q[2], q[3]));
  }
}

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  __m256 s_lo = _mm256_setzero_ps(), s_hi = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    s_lo = _mm256_fmadd_ps(a, a, s_lo);
    s_hi = _mm256_fmadd_ps(b, b, s_hi);
  }
  if (i < n) {
    const __m256 a = _mm256_maskload_ps(x + i, lane_mask(n - i));
    const __m256 b = _mm256_maskload_ps(x + i + 8, lane_mask(n - i - 8));
    s_lo = _mm256_fmadd_ps(a, a, s_lo);
    s_hi = _mm256_fmadd_ps(b, b, s_hi);
  }
  float ss = reduce16(s_lo, s_hi);
  ss = ss / static_cast<float>(n) + eps;
  const __m256 inv = _mm256_set1_ps(1.0f / __builtin_sqrtf(ss));
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(weight + i), _mm256_mul_ps(inv, _mm256_loadu_ps(x + i))));
  if (i < n) {
    const __m256i mask = lane_mask(n - i);
    _mm256_maskstore_ps(out + i, mask,
                        _mm256_mul_ps(_mm256_maskload_ps(weight + i, mask), _mm256_mul_ps(inv, _mm256_maskload_ps(x + i, mask))));
  }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  __m256 mv = _mm256_set1_ps(-__builtin_inff());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(_mm256_loadu_ps(x + i), mv);  // NaN skipped
  float max_value = hmax_ps(mv);
  for (; i < n; ++i) max_value = x[i] > max_value ? x[i] : max_value;
  const __m256 max = _mm256_set1_ps(max_value);
  __m256 s_lo = _mm256_setzero_ps(), s_hi = _mm256_setzero_ps();
  for (i = 0; i < n; i += 16) {
    const __m256i mask_lo = lane_mask(n - i), mask_hi = lane_mask(n - i - 8);
    const __m256 e_lo = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask_lo), max));
    const __m256 e_hi = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i + 8, mask_hi), max));
    _mm256_maskstore_ps(x + i, mask_lo, e_lo);
    _mm256_maskstore_ps(x + i + 8, mask_hi, e_hi);
    s_lo = _mm256_add_ps(s_lo, _mm256_and_ps(e_lo, _mm256_castsi256_ps(mask_lo)));
    s_hi = _mm256_add_ps(s_hi, _mm256_and_ps(e_hi, _mm256_castsi256_ps(mask_hi)));
  }
  const __m256 sum = _mm256_set1_ps(reduce16(s_lo, s_hi));
  for (i = 0; i < n; i += 8) {
    const __m256i mask = lane_mask(n - i);
    _mm256_maskstore_ps(x + i, mask, _mm256_div_ps(_mm256_maskload_ps(x + i, mask), sum));
  }
}

void swiglu(float* out, const float* gate, const float* up, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i mask = lane_mask(n - i);
    const __m256 g = _mm256_maskload_ps(gate + i, mask);
    const __m256 u = _mm256_maskload_ps(up + i, mask);
    const __m256 silu = _mm256_mul_ps(g, _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_xor_ps(g, sign)))));
    _mm256_maskstore_ps(out + i, mask, _mm256_mul_ps(silu, u));
  }
}

int64_t argmax(const float* x, int64_t n) {
  if (n <= 0) return 0;
  __m256 mv = _mm256_set1_ps(-__builtin_inff());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(_mm256_loadu_ps(x + i), mv);
  float max_value = hmax_ps(mv);
  for (int64_t k = i; k < n; ++k) max_value = x[k] > max_value ? x[k] : max_value;
  const __m256 max = _mm256_set1_ps(max_value);
  for (i = 0; i + 8 <= n; i += 8) {
    const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), max, _CMP_EQ_OQ));
    if (hit != 0) return i + __builtin_ctz(static_cast<unsigned>(hit));
  }
  for (; i < n; ++i)
    if (x[i] == max_value) return i;
  return 0;  // every value is NaN
}

uint64_t stream_read(const void* data, int64_t bytes) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 128 <= bytes; i += 128) {
    a0 = _mm256_add_epi64(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    a2 = _mm256_add_epi64(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    a3 = _mm256_add_epi64(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < bytes; ++i) sum += p[i];
  return sum;
}

}  // namespace helix::cpu::avx2
