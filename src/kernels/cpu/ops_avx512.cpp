// AVX-512 element-wise kernels and activation quantizer; operation for operation the scalar ones
// (ops_scalar.cpp), so results are bit-identical.
#include <immintrin.h>

// GCC 12's own AVX-512 headers trip -Wuninitialized (_mm512_undefined_* inside the casts).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstdint>

#include "kernels/cpu/exp_constants.h"
#include "kernels/cpu/kernel_table.h"

namespace helix::cpu::avx512 {
namespace {

inline __mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }

inline float reduce16(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

inline __m512 exp16(__m512 x) {
  const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpMin)), _mm512_set1_ps(kExpMax));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Hi), xc);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(-kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpP0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP5));
  const __m512 r2 = _mm512_mul_ps(r, r);
  __m512 y = _mm512_fmadd_ps(p, r2, r);
  y = _mm512_add_ps(y, _mm512_set1_ps(1.0f));
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  __m512 result = _mm512_mul_ps(y, _mm512_castsi512_ps(bits));
  result = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpMax), _CMP_GT_OQ), result,
                                _mm512_set1_ps(__builtin_inff()));
  result = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpMin), _CMP_LT_OQ), result,
                                _mm512_setzero_ps());
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), result, x);
}

}  // namespace

void quantize_activation_row(const float* x, int64_t cols, int8_t* qs, float* scales, int32_t* sums16) {
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff);
  const __m512i lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127);
  for (int64_t b = 0; b < cols / 32; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + 32 * b);
    const __m512 x1 = _mm512_loadu_ps(x + 32 * b + 16);
    const __m512i m = _mm512_max_epu32(_mm512_and_si512(_mm512_castps_si512(x0), abs_mask),
                                       _mm512_and_si512(_mm512_castps_si512(x1), abs_mask));
    const uint32_t amax_bits = _mm512_reduce_max_epu32(m);
    float amax;
    __builtin_memcpy(&amax, &amax_bits, sizeof amax);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    scales[b] = d;
    const __m512 idv = _mm512_set1_ps(id);
    const __m512i q0 = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x0, idv)), lo), hi);
    const __m512i q1 = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x1, idv)), lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 32 * b), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
    sums16[2 * b] = _mm512_reduce_add_epi32(q0);
    sums16[2 * b + 1] = _mm512_reduce_add_epi32(q1);
  }
}

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  __m512 s = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    s = _mm512_fmadd_ps(v, v, s);
  }
  if (i < n) {
    const __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
    s = _mm512_fmadd_ps(v, v, s);
  }
  float ss = reduce16(s);
  ss = ss / static_cast<float>(n) + eps;
  const __m512 inv = _mm512_set1_ps(1.0f / __builtin_sqrtf(ss));
  for (i = 0; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(weight + i), _mm512_mul_ps(inv, _mm512_loadu_ps(x + i))));
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    _mm512_mask_storeu_ps(out + i, mask,
                          _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, weight + i),
                                        _mm512_mul_ps(inv, _mm512_maskz_loadu_ps(mask, x + i))));
  }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  // vmaxps returns its second operand when either is NaN, so NaN inputs are skipped as in the scalar.
  __m512 mv = _mm512_set1_ps(-__builtin_inff());
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) mv = _mm512_max_ps(_mm512_loadu_ps(x + i), mv);
  if (i < n) mv = _mm512_mask_max_ps(mv, tail_mask(n - i), _mm512_maskz_loadu_ps(tail_mask(n - i), x + i), mv);
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
  __m512 s = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), max));
    _mm512_storeu_ps(x + i, e);
    s = _mm512_add_ps(s, e);
  }
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + i), max));
    _mm512_mask_storeu_ps(x + i, mask, e);
    s = _mm512_mask_add_ps(s, mask, s, e);
  }
  const __m512 sum = _mm512_set1_ps(reduce16(s));
  for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_div_ps(_mm512_loadu_ps(x + i), sum));
  if (i < n) {
    const __mmask16 mask = tail_mask(n - i);
    _mm512_mask_storeu_ps(x + i, mask, _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + i), sum));
  }
}

void swiglu(float* out, const float* gate, const float* up, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n - i);
    const __m512 g = _mm512_maskz_loadu_ps(mask, gate + i);
    const __m512 u = _mm512_maskz_loadu_ps(mask, up + i);
    const __m512 silu = _mm512_mul_ps(g, _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_xor_ps(g, sign)))));
    _mm512_mask_storeu_ps(out + i, mask, _mm512_mul_ps(silu, u));
  }
}

int64_t argmax(const float* x, int64_t n) {
  if (n <= 0) return 0;
  __m512 mv = _mm512_set1_ps(-__builtin_inff());
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n - i);
    mv = _mm512_mask_max_ps(mv, mask, _mm512_maskz_loadu_ps(mask, x + i), mv);
  }
  const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n - i);
    const __mmask16 hit = _mm512_mask_cmp_ps_mask(mask, _mm512_maskz_loadu_ps(mask, x + i), max, _CMP_EQ_OQ);
    if (hit != 0) return i + __builtin_ctz(hit);
  }
  return 0;  // every value is NaN
}

// Reads the range as the prepacked decode kernels stream weights: two streams side by side (blocks 2k and 2k + 1
// of 16 KiB together, like a pair of panels), every line touched 4 KiB ahead. One core keeps more lines in flight
// that way than with one sequential loop: on a 2-vCPU Ice Lake Xeon ~10 % more from memory (11.7-12.3 against
// 10.5-11.3 GB/s on one thread), so the bandwidth bound that helix bench judges decode against is the higher one.
uint64_t stream_read(const void* data, int64_t bytes) {
  constexpr int64_t kBlock = 16384, kAhead = 4096;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 2 * kBlock <= bytes; i += 2 * kBlock) {
    for (int64_t k = 0; k < kBlock; k += 128) {
      const int64_t ahead = k + kAhead;
      const char* line = reinterpret_cast<const char*>(p + i) + ahead + (ahead >= kBlock ? kBlock : 0);
      _mm_prefetch(line, _MM_HINT_T0);
      _mm_prefetch(line + 64, _MM_HINT_T0);
      _mm_prefetch(line + kBlock, _MM_HINT_T0);
      _mm_prefetch(line + kBlock + 64, _MM_HINT_T0);
      a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i + k));
      a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + k + 64));
      a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + kBlock + k));
      a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + kBlock + k + 64));
    }
  }
  for (; i + 256 <= bytes; i += 256) {
    a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 64));
    a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 128));
    a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 192));
  }
  // Lanes summed as unsigned (wrapping) words: _mm512_reduce_add_epi64 adds them as signed ones, which overflows.
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
  uint64_t sum = 0;
  for (const uint64_t lane : lanes) sum += lane;
  for (; i < bytes; ++i) sum += p[i];
  return sum;
}

}  // namespace helix::cpu::avx512
