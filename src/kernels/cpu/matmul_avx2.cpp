// AVX2 matmul kernels (the fallback for CPUs without AVX-512 VNNI).
//
// Quantized weights: 4 rows x up to 4 tokens per tile. Each row's sub-block (32 codes, 16 for q6_k)
// is decoded once into a vector, then per token maddubs + madd give 8 int32 partial sums per row,
// hadd folds 4 rows into one vector of exact sub-block sums (lane = row), and the f32 scaling runs
// on 4 rows at once. maddubs saturates at int16, so q8_0 uses |w| * sign(a, w) (|products| <= 2*128*127);
// the unsigned codes (q4_0, q4_k, q6_k) are small enough to multiply directly, with act_bias removing
// the q4_0 / q6_k offsets.
//
// Float weights: tiles of 2 rows x 2 tokens; the 16 partial sums of each output live in two ymm.
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/kernel_table.h"

namespace helix::cpu::avx2 {

extern const int kQ8_0CodeOffset = 0;
extern const int64_t kQuantRowAlign = 4;
extern const int64_t kQuantPieceRows = 4;
extern const int64_t kFloatRowAlign = 2;

namespace {

constexpr int kRows = 4;
constexpr int kTokens = 4;

inline float half_to_float(const uint8_t* p) {
  uint16_t h;
  __builtin_memcpy(&h, p, sizeof h);
  return _cvtsh_ss(h);
}

// Sums of 8 int32 lanes of each of 4 vectors -> one vector, lane r = sum of v[r] (exact).
inline __m128i sum4x8(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
  return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

// The rows of one tile; rows past the range repeat the last one (their outputs are not stored).
struct Rows {
  const uint8_t* row[kRows];
  int valid;
};

// Per sub-block weight side: codes of each row and the f32 scale (and min) of each row.
struct SubBlock32 {
  __m256i codes[kRows];   // unsigned codes, or |w| for q8_0
  __m256i signs[kRows];   // q8_0: the signed weights, for sign(a, w)
  __m128 scale;
  __m128 min;
};

struct TokenSide {
  const int8_t* act;   // token's activation codes, column 0
  const int32_t* bias;
  const float* scale;
  const float* min;
};

TokenSide token_side(const QuantMatmulArgs& args, int64_t t) {
  return {args.act_qs + t * args.cols, args.act_bias + t * args.n_sub, args.act_scale + t * args.n_sub,
          args.act_min != nullptr ? args.act_min + t * args.n_sub : nullptr};
}

// Integer sums of sub-block j (32 values at column 32 j) for the 4 rows against one token.
template <bool kSigned>
inline __m128i dot32(const SubBlock32& w, const int8_t* a) {
  const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i v[kRows];
  for (int r = 0; r < kRows; ++r) {
    const __m256i rhs = kSigned ? _mm256_sign_epi8(av, w.signs[r]) : av;
    v[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(w.codes[r], rhs), ones);
  }
  return sum4x8(v[0], v[1], v[2], v[3]);
}

inline void accumulate(__m128& acc, __m128i isum, int32_t bias, __m128 w_scale, float a_scale) {
  isum = _mm_add_epi32(isum, _mm_set1_epi32(bias));
  acc = _mm_fmadd_ps(_mm_cvtepi32_ps(isum), _mm_mul_ps(w_scale, _mm_set1_ps(a_scale)), acc);
}

// ---- decoding one sub-block of 4 rows --------------------------------------------------------------

void load_q8_0(const Rows& rows, int64_t j, SubBlock32* w) {
  float s[kRows];
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* block = rows.row[r] + j * 34;
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
    w->signs[r] = q;
    w->codes[r] = _mm256_abs_epi8(q);
    s[r] = half_to_float(block);
  }
  w->scale = _mm_setr_ps(s[0], s[1], s[2], s[3]);
}

void load_q4_0(const Rows& rows, int64_t j, SubBlock32* w) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  float s[kRows];
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* block = rows.row[r] + j * 18;
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    w->codes[r] = _mm256_and_si256(both, low4);  // values 0..15 | 16..31
    s[r] = half_to_float(block);
  }
  w->scale = _mm_setr_ps(s[0], s[1], s[2], s[3]);
}

// Scales and mins of the 8 sub-blocks of one q4_k super-block of each row: [sub][row].
void q4_k_scales(const Rows& rows, int64_t sb, float scale[8][kRows], float min[8][kRows]) {
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* block = rows.row[r] + sb * 144;
    const float d = half_to_float(block);
    const float dmin = half_to_float(block + 2);
    const uint8_t* q = block + 4;
    for (int j = 0; j < 8; ++j) {
      int sc, m;
      if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
      } else {
        sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
      }
      scale[j][r] = d * static_cast<float>(sc);
      min[j][r] = -(dmin * static_cast<float>(m));
    }
  }
}

void load_q4_k_codes(const Rows& rows, int64_t sb, int j, SubBlock32* w) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* qs = rows.row[r] + sb * 144 + 16 + 32 * (j / 2);
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
    w->codes[r] = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(q, 4) : q, low4);
  }
}

// Codes of quarter `quarter` (values 32 q .. 32 q + 31, i.e. sub-blocks 2q and 2q + 1) of half
// `half` of a q6_k super-block, for each row.
void load_q6_k_quarter(const Rows& rows, int64_t sb, int half, int quarter, __m256i codes[kRows]) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i high2 = _mm256_set1_epi8(0x30);
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* block = rows.row[r] + sb * 210;
    const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 64 * half + 32 * (quarter & 1)));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 128 + 32 * half));
    const __m256i low = _mm256_and_si256(quarter < 2 ? ql : _mm256_srli_epi16(ql, 4), low4);
    __m256i high;
    switch (quarter) {  // bits 2q..2q+1 of each qh byte to bits 4..5
      case 0: high = _mm256_slli_epi16(qh, 4); break;
      case 1: high = _mm256_slli_epi16(qh, 2); break;
      case 2: high = qh; break;
      default: high = _mm256_srli_epi16(qh, 2); break;
    }
    codes[r] = _mm256_or_si256(low, _mm256_and_si256(high, high2));
  }
}

// The 16 sub-block scales d * scales[j] of one q6_k super-block of each row: [sub][row].
void q6_k_scales(const Rows& rows, int64_t sb, float scale[16][kRows]) {
  for (int r = 0; r < kRows; ++r) {
    const uint8_t* block = rows.row[r] + sb * 210;
    const float d = half_to_float(block + 208);
    for (int j = 0; j < 16; ++j) scale[j][r] = d * static_cast<float>(static_cast<int8_t>(block[192 + j]));
  }
}

// Sums of two 16-value sub-blocks for 4 rows against one token: low half = first sub-block (lane =
// row), high half = second.
inline __m256i dot32_pair(const __m256i codes[kRows], const int8_t* a) {
  const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i v[kRows];
  for (int r = 0; r < kRows; ++r) v[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(codes[r], av), ones);
  return _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
}

// ---- one tile: 4 rows x T tokens ------------------------------------------------------------------

template <int T>
void quant_tile(const QuantMatmulArgs& args, const Rows& rows, int64_t row0, int64_t t0) {
  TokenSide tok[T];
  for (int t = 0; t < T; ++t) tok[t] = token_side(args, t0 + t);
  __m128 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm_setzero_ps();
  switch (args.dtype) {
    case DType::Q8_0:
    case DType::Q4_0: {
      const bool is_q8 = args.dtype == DType::Q8_0;
      SubBlock32 w;
      for (int64_t j = 0; j < args.n_sub; ++j) {
        if (is_q8) load_q8_0(rows, j, &w); else load_q4_0(rows, j, &w);
        for (int t = 0; t < T; ++t) {
          const __m128i isum = is_q8 ? dot32<true>(w, tok[t].act + 32 * j) : dot32<false>(w, tok[t].act + 32 * j);
          accumulate(acc[t], isum, tok[t].bias[j], w.scale, tok[t].scale[j]);
        }
      }
      break;
    }
    case DType::Q4_K: {
      SubBlock32 w;
      float scale[8][kRows], min[8][kRows];
      for (int64_t sb = 0; sb < args.cols / 256; ++sb) {
        q4_k_scales(rows, sb, scale, min);
        for (int j = 0; j < 8; ++j) {
          load_q4_k_codes(rows, sb, j, &w);
          const __m128 w_scale = _mm_loadu_ps(scale[j]);
          const __m128 w_min = _mm_loadu_ps(min[j]);
          const int64_t sub = 8 * sb + j;
          for (int t = 0; t < T; ++t) {
            const __m128i isum = dot32<false>(w, tok[t].act + 32 * sub);
            accumulate(acc[t], isum, 0, w_scale, tok[t].scale[sub]);
            acc[t] = _mm_fmadd_ps(w_min, _mm_set1_ps(tok[t].min[sub]), acc[t]);
          }
        }
      }
      break;
    }
    case DType::Q6_K: {
      __m256i codes[kRows];
      float scale[16][kRows];
      for (int64_t sb = 0; sb < args.cols / 256; ++sb) {
        q6_k_scales(rows, sb, scale);
        for (int half = 0; half < 2; ++half) {
          for (int quarter = 0; quarter < 4; ++quarter) {
            load_q6_k_quarter(rows, sb, half, quarter, codes);
            const int j = 8 * half + 2 * quarter;  // first of the two sub-blocks
            const int64_t sub = 16 * sb + j;
            const __m128 scale_a = _mm_loadu_ps(scale[j]), scale_b = _mm_loadu_ps(scale[j + 1]);
            for (int t = 0; t < T; ++t) {
              const __m256i both = dot32_pair(codes, tok[t].act + 16 * sub);
              accumulate(acc[t], _mm256_castsi256_si128(both), tok[t].bias[sub], scale_a, tok[t].scale[sub]);
              accumulate(acc[t], _mm256_extracti128_si256(both, 1), tok[t].bias[sub + 1], scale_b, tok[t].scale[sub + 1]);
            }
          }
        }
      }
      break;
    }
    default: break;
  }
  for (int t = 0; t < T; ++t) {
    alignas(16) float out[kRows];
    _mm_store_ps(out, acc[t]);
    float* y = args.y + (t0 + t) * args.ldy + row0 - args.y_row0;
    for (int r = 0; r < rows.valid; ++r) y[r] = out[r];
  }
}

// ---- float weights --------------------------------------------------------------------------------

constexpr int kFloatRows = 2;
constexpr int kFloatTokens = 2;

// 8 weights at element k of a row, as f32.
template <DType D>
inline __m256 load8(const void* row, int64_t k) {
  if constexpr (D == DType::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(row) + k);
  } else if constexpr (D == DType::F16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + k)));
  } else {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + k)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
}

inline float reduce16(__m256 lo, __m256 hi) {
  const __m256 a = _mm256_add_ps(lo, hi);
  const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
  return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

template <DType D, int R, int T>
void float_tile(const FloatMatmulArgs& args, int64_t row0, int64_t t0) {
  constexpr int64_t kElemBytes = D == DType::F32 ? 4 : 2;
  const void* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = static_cast<const uint8_t*>(args.weights) + (row0 + r) * args.cols * kElemBytes;
  const float* x[T];
  for (int t = 0; t < T; ++t) x[t] = args.x + (t0 + t) * args.cols;
  __m256 lo[R][T], hi[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) lo[r][t] = hi[r][t] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= args.cols; k += 16) {
    __m256 wl[R], wh[R];
    for (int r = 0; r < R; ++r) {
      wl[r] = load8<D>(rows[r], k);
      wh[r] = load8<D>(rows[r], k + 8);
    }
    for (int t = 0; t < T; ++t) {
      const __m256 xl = _mm256_loadu_ps(x[t] + k), xh = _mm256_loadu_ps(x[t] + k + 8);
      for (int r = 0; r < R; ++r) {
        lo[r][t] = _mm256_fmadd_ps(wl[r], xl, lo[r][t]);
        hi[r][t] = _mm256_fmadd_ps(wh[r], xh, hi[r][t]);
      }
    }
  }
  if (k < args.cols) {  // zero-padded copies of the last partial 16 columns
    const int64_t rest = args.cols - k;
    alignas(32) float wt[R][16] = {}, xt[T][16] = {};
    for (int r = 0; r < R; ++r)
      for (int64_t i = 0; i < rest; ++i) {
        if constexpr (D == DType::F32) {
          wt[r][i] = static_cast<const float*>(rows[r])[k + i];
        } else if constexpr (D == DType::F16) {
          wt[r][i] = _cvtsh_ss(static_cast<const uint16_t*>(rows[r])[k + i]);
        } else {
          const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(rows[r])[k + i]) << 16;
          __builtin_memcpy(&wt[r][i], &bits, sizeof bits);
        }
      }
    for (int t = 0; t < T; ++t)
      for (int64_t i = 0; i < rest; ++i) xt[t][i] = x[t][k + i];
    for (int t = 0; t < T; ++t)
      for (int r = 0; r < R; ++r) {
        lo[r][t] = _mm256_fmadd_ps(_mm256_load_ps(wt[r]), _mm256_load_ps(xt[t]), lo[r][t]);
        hi[r][t] = _mm256_fmadd_ps(_mm256_load_ps(wt[r] + 8), _mm256_load_ps(xt[t] + 8), hi[r][t]);
      }
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) args.y[(t0 + t) * args.ldy + row0 + r - args.y_row0] = reduce16(lo[r][t], hi[r][t]);
}

template <DType D, int R, int T = kFloatTokens>
void float_tile_tokens(int tokens, const FloatMatmulArgs& args, int64_t row0, int64_t t0) {
  if constexpr (T > 1) {
    if (tokens < T) return float_tile_tokens<D, R, T - 1>(tokens, args, row0, t0);
  }
  float_tile<D, R, T>(args, row0, t0);
}

template <DType D>
void float_rows(const FloatMatmulArgs& args, int64_t row_begin, int64_t row_end) {
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kFloatRows) {
    const bool full = row_end - row0 >= kFloatRows;
    for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kFloatTokens) {
      const int tokens = static_cast<int>(args.n_tokens - t0 < kFloatTokens ? args.n_tokens - t0 : kFloatTokens);
      if (full) float_tile_tokens<D, kFloatRows>(tokens, args, row0, t0);
      else float_tile_tokens<D, 1>(tokens, args, row0, t0);
    }
  }
}

template <int T = kTokens>
void quant_tile_tokens(int tokens, const QuantMatmulArgs& args, const Rows& rows, int64_t row0, int64_t t0) {
  if constexpr (T > 1) {
    if (tokens < T) return quant_tile_tokens<T - 1>(tokens, args, rows, row0, t0);
  }
  quant_tile<T>(args, rows, row0, t0);
}

}  // namespace

int64_t quant_scratch_bytes(DType, int64_t, int64_t) { return 0; }

// This ISA reads every type in place.
int64_t prepacked_bytes(DType, int64_t, int64_t) { return 0; }
void prepack(DType, const uint8_t*, int64_t, int64_t, int64_t, int64_t, uint8_t*) {}
int64_t act_image_bytes(DType, int64_t, int64_t) { return 0; }
void build_act_image(DType, const int8_t*, int64_t, int64_t, uint8_t*) {}

void quant_matmul(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end, int64_t, uint8_t*) {
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kRows) {
    Rows rows;
    rows.valid = static_cast<int>(row_end - row0 < kRows ? row_end - row0 : kRows);
    for (int r = 0; r < kRows; ++r)
      rows.row[r] = args.weights + (row0 + (r < rows.valid ? r : rows.valid - 1)) * args.row_bytes;
    for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kTokens) {
      const int tokens = static_cast<int>(args.n_tokens - t0 < kTokens ? args.n_tokens - t0 : kTokens);
      quant_tile_tokens(tokens, args, rows, row0, t0);
    }
  }
}

void float_matmul(const FloatMatmulArgs& args, int64_t row_begin, int64_t row_end) {
  switch (args.dtype) {
    case DType::F32: return float_rows<DType::F32>(args, row_begin, row_end);
    case DType::F16: return float_rows<DType::F16>(args, row_begin, row_end);
    case DType::BF16: return float_rows<DType::BF16>(args, row_begin, row_end);
    default: return;
  }
}

}  // namespace helix::cpu::avx2
