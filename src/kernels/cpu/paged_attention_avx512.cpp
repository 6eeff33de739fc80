// AVX-512 path of paged attention: 16 floats per vector, masked tails, F16C-style conversion with
// vcvtph2ps, a polynomial exp. Compiled with -mavx512f/bw/vl/dq by CMake; run only where the CPU has them.
// GCC 12's avx512fintrin.h builds its "undefined" vectors by self-initialisation, which
// -Wmaybe-uninitialized reports at every reduce intrinsic; the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <immintrin.h>

#include "kernels/cpu/paged_attention_impl.h"

namespace helix::paged_attention_detail {
namespace {

// Lanes [0, n) of a 16-lane vector (none for n <= 0).
inline __mmask16 tail_mask(int32_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// exp(x) for x <= 0 (scores minus their max): Cephes' expf, range-reduced by ln 2, degree-5 polynomial,
// scaled by 2^n with vscalefps. Relative error about 2e-7; inputs below -87.3 give ~1e-38 instead of 0.
inline __m512 exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3365478515625f));
  x = _mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// The four horizontal sums of a0..a3 as one vector {sum(a0), sum(a1), sum(a2), sum(a3)}: halve each to 256
// bits, then one shared hadd tree, instead of four separate reductions.
inline __m128 sum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const auto half = [](__m512 a) {
    return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
  };
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(half(a0), half(a1)), _mm256_hadd_ps(half(a2), half(a3)));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

struct Avx512Ops {
  static void zero(float* o, int32_t n) {
    for (int32_t d = 0; d < n; d += 16) _mm512_mask_storeu_ps(o + d, tail_mask(n - d), _mm512_setzero_ps());
  }

  static void from_f16(const uint16_t* src, float* dst, int32_t n) {
    for (int32_t d = 0; d < n; d += 16) {
      const __mmask16 m = tail_mask(n - d);
      const __m256i h = _mm256_maskz_loadu_epi16(m, src + d);
      _mm512_mask_storeu_ps(dst + d, m, _mm512_cvtph_ps(h));
    }
  }

  // Four keys at a time: four independent FMA chains, then four reductions.
  static void dots(const float* q, const float* const* k_rows, int32_t n, int32_t hd, float scale, float* s) {
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
      for (int32_t d = 0; d < hd; d += 16) {
        const __mmask16 m = tail_mask(hd - d);
        const __m512 qv = _mm512_maskz_loadu_ps(m, q + d);
        a0 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k_rows[j] + d), a0);
        a1 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k_rows[j + 1] + d), a1);
        a2 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k_rows[j + 2] + d), a2);
        a3 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k_rows[j + 3] + d), a3);
      }
      _mm_storeu_ps(s + j, _mm_mul_ps(sum4(a0, a1, a2, a3), _mm_set1_ps(scale)));
    }
    for (; j < n; ++j) {
      __m512 a0 = _mm512_setzero_ps();
      for (int32_t d = 0; d < hd; d += 16) {
        const __mmask16 m = tail_mask(hd - d);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + d), _mm512_maskz_loadu_ps(m, k_rows[j] + d), a0);
      }
      s[j] = _mm512_reduce_add_ps(a0) * scale;
    }
  }

  static float max(const float* s, int32_t n) {
    __m512 m = _mm512_set1_ps(-__builtin_inff());
    for (int32_t j = 0; j < n; j += 16) m = _mm512_max_ps(m, _mm512_mask_loadu_ps(m, tail_mask(n - j), s + j));
    return _mm512_reduce_max_ps(m);
  }

  static float exp_shift(float* s, int32_t n, float max) {
    const __m512 mv = _mm512_set1_ps(max);
    __m512 sum = _mm512_setzero_ps();
    for (int32_t j = 0; j < n; j += 16) {
      const __mmask16 m = tail_mask(n - j);
      const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), mv));
      _mm512_mask_storeu_ps(s + j, m, e);
      sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    return _mm512_reduce_add_ps(sum);
  }

  // o = c*o + sum_j p_j v_j, 64 output values (four accumulators) per pass over the keys.
  static void scale_add(float* o, float c, const float* p, const float* const* v_rows, int32_t n, int32_t hd) {
    const __m512 cv = _mm512_set1_ps(c);
    for (int32_t d = 0; d < hd; d += 64) {
      const __mmask16 m0 = tail_mask(hd - d), m1 = tail_mask(hd - d - 16), m2 = tail_mask(hd - d - 32),
                      m3 = tail_mask(hd - d - 48);
      __m512 a0 = _mm512_mul_ps(cv, _mm512_maskz_loadu_ps(m0, o + d));
      __m512 a1 = _mm512_mul_ps(cv, _mm512_maskz_loadu_ps(m1, o + d + 16));
      __m512 a2 = _mm512_mul_ps(cv, _mm512_maskz_loadu_ps(m2, o + d + 32));
      __m512 a3 = _mm512_mul_ps(cv, _mm512_maskz_loadu_ps(m3, o + d + 48));
      for (int32_t j = 0; j < n; ++j) {
        const __m512 pj = _mm512_set1_ps(p[j]);
        const float* v = v_rows[j] + d;
        a0 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m0, v), a0);
        a1 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m1, v + 16), a1);
        a2 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m2, v + 32), a2);
        a3 = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(m3, v + 48), a3);
      }
      _mm512_mask_storeu_ps(o + d, m0, a0);
      _mm512_mask_storeu_ps(o + d + 16, m1, a1);
      _mm512_mask_storeu_ps(o + d + 32, m2, a2);
      _mm512_mask_storeu_ps(o + d + 48, m3, a3);
    }
  }

  static void scale(float* o, float f, int32_t n) {
    const __m512 fv = _mm512_set1_ps(f);
    for (int32_t d = 0; d < n; d += 16) {
      const __mmask16 m = tail_mask(n - d);
      _mm512_mask_storeu_ps(o + d, m, _mm512_mul_ps(fv, _mm512_maskz_loadu_ps(m, o + d)));
    }
  }
};

}  // namespace

void attend_avx512(const Args& a) { attend<Avx512Ops>(a); }

}  // namespace helix::paged_attention_detail
