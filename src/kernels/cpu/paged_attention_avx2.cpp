// AVX2 path of paged attention: 8 floats per vector with FMA and F16C; tails go through a zero-padded
// 8-lane buffer. Compiled with -mavx2 -mfma -mf16c by CMake; run only where the CPU has them.
#include <immintrin.h>
#include <string.h>

#include "kernels/cpu/paged_attention_impl.h"

namespace helix::paged_attention_detail {
namespace {

inline float hsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

inline float hmax(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// {sum(a0), sum(a1), sum(a2), sum(a3)} through one shared hadd tree.
inline __m128 sum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// exp(x) for x <= 0: Cephes' expf as in the AVX-512 path, 2^n built in the exponent bits.
inline __m256 exp256(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3365478515625f));
  x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // n is in [-126, 128): (n + 127) << 23 is a normal power of two (2^128 only for x above the clamp's max).
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

struct Avx2Ops {
  static void zero(float* o, int32_t n) {
    int32_t d = 0;
    for (; d + 8 <= n; d += 8) _mm256_storeu_ps(o + d, _mm256_setzero_ps());
    for (; d < n; ++d) o[d] = 0.0f;
  }

  static void from_f16(const uint16_t* src, float* dst, int32_t n) {
    int32_t d = 0;
    for (; d + 8 <= n; d += 8)
      _mm256_storeu_ps(dst + d, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + d))));
    if (d < n) {
      uint16_t h[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      float f[8];
      memcpy(h, src + d, sizeof(uint16_t) * static_cast<size_t>(n - d));
      _mm256_storeu_ps(f, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h))));
      memcpy(dst + d, f, sizeof(float) * static_cast<size_t>(n - d));
    }
  }

  static float dot_tail(const float* q, const float* k, int32_t from, int32_t hd) {
    float acc = 0.0f;
    for (int32_t d = from; d < hd; ++d) acc += q[d] * k[d];
    return acc;
  }

  static void dots(const float* q, const float* const* k_rows, int32_t n, int32_t hd, float scale, float* s) {
    const int32_t body = hd / 8 * 8;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
      for (int32_t d = 0; d < body; d += 8) {
        const __m256 qv = _mm256_loadu_ps(q + d);
        a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k_rows[j] + d), a0);
        a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k_rows[j + 1] + d), a1);
        a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k_rows[j + 2] + d), a2);
        a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k_rows[j + 3] + d), a3);
      }
      __m128 sums = sum4(a0, a1, a2, a3);
      if (body < hd)
        sums = _mm_add_ps(sums, _mm_setr_ps(dot_tail(q, k_rows[j], body, hd), dot_tail(q, k_rows[j + 1], body, hd),
                                            dot_tail(q, k_rows[j + 2], body, hd), dot_tail(q, k_rows[j + 3], body, hd)));
      _mm_storeu_ps(s + j, _mm_mul_ps(sums, _mm_set1_ps(scale)));
    }
    for (; j < n; ++j) {
      __m256 a0 = _mm256_setzero_ps();
      for (int32_t d = 0; d < body; d += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k_rows[j] + d), a0);
      s[j] = (hsum(a0) + dot_tail(q, k_rows[j], body, hd)) * scale;
    }
  }

  static float max(const float* s, int32_t n) {
    __m256 m = _mm256_set1_ps(-__builtin_inff());
    int32_t j = 0;
    for (; j + 8 <= n; j += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(s + j));
    float r = hmax(m);
    for (; j < n; ++j) r = s[j] > r ? s[j] : r;
    return r;
  }

  static float exp_shift(float* s, int32_t n, float max) {
    const __m256 mv = _mm256_set1_ps(max);
    __m256 sum = _mm256_setzero_ps();
    int32_t j = 0;
    for (; j + 8 <= n; j += 8) {
      const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), mv));
      _mm256_storeu_ps(s + j, e);
      sum = _mm256_add_ps(sum, e);
    }
    float total = hsum(sum);
    if (j < n) {
      float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      memcpy(buf, s + j, sizeof(float) * static_cast<size_t>(n - j));
      _mm256_storeu_ps(buf, exp256(_mm256_sub_ps(_mm256_loadu_ps(buf), mv)));
      for (int32_t t = 0; t < n - j; ++t) total += buf[t];
      memcpy(s + j, buf, sizeof(float) * static_cast<size_t>(n - j));
    }
    return total;
  }

  // o = c*o + sum_j p_j v_j, 32 output values (four accumulators) per pass over the keys.
  static void scale_add(float* o, float c, const float* p, const float* const* v_rows, int32_t n, int32_t hd) {
    const __m256 cv = _mm256_set1_ps(c);
    int32_t d = 0;
    for (; d + 32 <= hd; d += 32) {
      __m256 a0 = _mm256_mul_ps(cv, _mm256_loadu_ps(o + d));
      __m256 a1 = _mm256_mul_ps(cv, _mm256_loadu_ps(o + d + 8));
      __m256 a2 = _mm256_mul_ps(cv, _mm256_loadu_ps(o + d + 16));
      __m256 a3 = _mm256_mul_ps(cv, _mm256_loadu_ps(o + d + 24));
      for (int32_t j = 0; j < n; ++j) {
        const __m256 pj = _mm256_set1_ps(p[j]);
        const float* v = v_rows[j] + d;
        a0 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v), a0);
        a1 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + 8), a1);
        a2 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + 16), a2);
        a3 = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + 24), a3);
      }
      _mm256_storeu_ps(o + d, a0);
      _mm256_storeu_ps(o + d + 8, a1);
      _mm256_storeu_ps(o + d + 16, a2);
      _mm256_storeu_ps(o + d + 24, a3);
    }
    for (; d + 8 <= hd; d += 8) {
      __m256 a0 = _mm256_mul_ps(cv, _mm256_loadu_ps(o + d));
      for (int32_t j = 0; j < n; ++j) a0 = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), _mm256_loadu_ps(v_rows[j] + d), a0);
      _mm256_storeu_ps(o + d, a0);
    }
    for (; d < hd; ++d) {
      float acc = o[d] * c;
      for (int32_t j = 0; j < n; ++j) acc += p[j] * v_rows[j][d];
      o[d] = acc;
    }
  }

  static void scale(float* o, float f, int32_t n) {
    const __m256 fv = _mm256_set1_ps(f);
    int32_t d = 0;
    for (; d + 8 <= n; d += 8) _mm256_storeu_ps(o + d, _mm256_mul_ps(fv, _mm256_loadu_ps(o + d)));
    for (; d < n; ++d) o[d] *= f;
  }
};

}  // namespace

void attend_avx2(const Args& a) { attend<Avx2Ops>(a); }

}  // namespace helix::paged_attention_detail
