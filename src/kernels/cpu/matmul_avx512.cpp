// AVX-512 (VNNI) matmul kernels.
//
// Quantized weights: 16 rows at a time ("panel") are transposed so that one zmm holds 4 consecutive
// weight codes of each of the 16 rows (lane r = row r). One vpdpbusd of that against 4 activation
// codes broadcast to every lane advances 16 row dot products by 4 columns, so a sub-block of 32
// columns is 8 vpdpbusd per token and its exact int32 sums come out one per lane, ready for the f32
// scaling (no horizontal sums). vpdpbusd multiplies unsigned by signed bytes: codes are made
// unsigned (q8_0: w + 128; q4_0, q4_k, q6_k codes are unsigned already) and act_bias removes the
// offset exactly.
//  - up to 16 tokens: the transposed codes go straight from registers into the dot products of all
//    tokens (one pass over the weights, no scratch), with software prefetch running ~1 KiB ahead in
//    each of the 16 rows; with <= 4 tokens q8_0 / q4_0 read whole 8-block chunks including their
//    scales (see "decode path" below);
//  - more tokens: the whole panel is packed once into scratch and reread per tile of 16 tokens;
//  - prepacked q8_0 / q4_0 (the layout a loaded model has): two panels at a time, so that each activation
//    broadcast feeds two vpdpbusd and one core reads two memory streams (packed_pair_tile, _few). On a 2-vCPU
//    Ice Lake Xeon this took the TinyLlama q4_0 matmuls (helix_microbench, alternating runs) from 176-205 to
//    205-242 tok/s at 16 tokens, and from 19.8-22.9 to 22.8-23.7 GB/s (best pass) at one token.
// Measured on the 2-vCPU Zen target: single-core decode streams at 0.8-0.9 of a plain read loop's
// rate for q4_0/q8_0; prepacked, with the activations as ActRecords, n=16 and n=128 sustain ~300-340 GMAC/s per
// core (helix_microbench TinyLlamaMatmuls: 590-650 tok/s on 2 cores), about 0.6 of a bare vpdpbusd loop's
// ~530 GMAC/s: per 8 vpdpbusd of a sub-block and token the loop also converts, scales and accumulates in f32.
//
// Float weights: tiles of 4 rows x 5 tokens, 16 columns per step, one accumulator per output.
#include <immintrin.h>

// GCC 12's own AVX-512 headers trip -Wuninitialized (_mm512_undefined_* inside the casts).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/cpu/kernel_table.h"

namespace helix::cpu::avx512 {

extern const int kQ8_0CodeOffset = 128;
extern const int64_t kQuantRowAlign = 16;
extern const int64_t kQuantPieceRows = 32;  // two panels: see packed_pair_tile
extern const int64_t kFloatRowAlign = 4;

namespace {

constexpr int kPanelRows = 16;
constexpr int kMaxTileTokens = 16;

enum class Kind { Q8_0, Q4_0, Q4_K, Q6_K };

// Layout of one packed sub-block: G/4 zmm of codes, the 16 row scales, then (q4_k) the 16 row mins.
template <Kind K>
struct Traits {
  static constexpr int kSubValues = K == Kind::Q6_K ? 16 : 32;        // G
  static constexpr int kGroups = kSubValues / 4;                       // zmm of codes per sub-block
  static constexpr bool kHasMin = K == Kind::Q4_K;
  static constexpr bool kHasBias = K != Kind::Q4_K;
  static constexpr int kSubBytes = kGroups * 64 + 64 + (kHasMin ? 64 : 0);
  static constexpr int kChunkSubs = 256 / kSubValues;                  // sub-blocks per 256 columns
};

// The 16 rows of one panel, `stride` bytes apart. A last panel with fewer rows is first copied into
// a zero-padded scratch panel, so the loops never test for missing rows and every address is
// base + r * stride (a few registers instead of 16 row pointers).
struct Panel {
  const uint8_t* base;
  int64_t stride;
  int valid;  // rows whose outputs are stored
};

Panel make_panel(const QuantMatmulArgs& args, int64_t row0, int64_t row_end, uint8_t* pad) {
  const int valid = static_cast<int>(row_end - row0 < kPanelRows ? row_end - row0 : kPanelRows);
  const uint8_t* base = args.weights + row0 * args.row_bytes;
  if (valid == kPanelRows) return {base, args.row_bytes, valid};
  __builtin_memcpy(pad, base, static_cast<size_t>(valid * args.row_bytes));
  __builtin_memset(pad + valid * args.row_bytes, 0, static_cast<size_t>((kPanelRows - valid) * args.row_bytes));
  return {pad, args.row_bytes, valid};
}

// Loads 16 bytes at `offset` of each of the 16 rows and transposes them: out[c] lane r = bytes
// 4c..4c+3 of row r.
inline void load_transpose(const Panel& p, int64_t offset, __m512i out[4]) {
  const uint8_t* at = p.base + offset;
  const int64_t s = p.stride;
  auto load = [&](int r) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + r * s)); };
  __m512i x[4];
  for (int i = 0; i < 4; ++i) {
    __m512i v = _mm512_castsi128_si512(load(i));
    v = _mm512_inserti32x4(v, load(i + 4), 1);
    v = _mm512_inserti32x4(v, load(i + 8), 2);
    v = _mm512_inserti32x4(v, load(i + 12), 3);
    x[i] = v;  // 128-bit lane L holds row i + 4L
  }
  const __m512i t0 = _mm512_unpacklo_epi32(x[0], x[1]);
  const __m512i t1 = _mm512_unpackhi_epi32(x[0], x[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(x[2], x[3]);
  const __m512i t3 = _mm512_unpackhi_epi32(x[2], x[3]);
  out[0] = _mm512_unpacklo_epi64(t0, t2);
  out[1] = _mm512_unpackhi_epi64(t0, t2);
  out[2] = _mm512_unpacklo_epi64(t1, t3);
  out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// fp16 at `offset` of each row -> 16 floats. Sixteen scalar loads and word inserts: vpgatherdd
// costs about 30 cycles on this core, four times as much.
inline __m512 load_f16(const Panel& p, int64_t offset) {
  const uint8_t* at = p.base + offset;
  const int64_t s = p.stride;
  auto half = [&](int r) {
    uint16_t h;
    __builtin_memcpy(&h, at + r * s, sizeof h);
    return static_cast<int>(h);
  };
  __m128i lo = _mm_cvtsi32_si128(half(0));
  __m128i hi = _mm_cvtsi32_si128(half(8));
  lo = _mm_insert_epi16(lo, half(1), 1);
  hi = _mm_insert_epi16(hi, half(9), 1);
  lo = _mm_insert_epi16(lo, half(2), 2);
  hi = _mm_insert_epi16(hi, half(10), 2);
  lo = _mm_insert_epi16(lo, half(3), 3);
  hi = _mm_insert_epi16(hi, half(11), 3);
  lo = _mm_insert_epi16(lo, half(4), 4);
  hi = _mm_insert_epi16(hi, half(12), 4);
  lo = _mm_insert_epi16(lo, half(5), 5);
  hi = _mm_insert_epi16(hi, half(13), 5);
  lo = _mm_insert_epi16(lo, half(6), 6);
  hi = _mm_insert_epi16(hi, half(14), 6);
  lo = _mm_insert_epi16(lo, half(7), 7);
  hi = _mm_insert_epi16(hi, half(15), 7);
  return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

// ---- unpacking: raw GGUF blocks of 16 rows -> sub-blocks of codes, in increasing order -------------

// Calls emit(j, codes, w_scale, w_min) for sub-blocks j0 .. j0 + n - 1 of the panel, in that order
// (the order of the f32 accumulation). codes[g] lane r = codes 4g..4g+3 of row r.
template <Kind K>
struct Unpack;

template <>
struct Unpack<Kind::Q8_0> {
  template <typename Emit>
  static inline void run(const Panel& p, int64_t j0, int n, Emit&& emit) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int i = 0; i < n; ++i) {
      const int64_t block = (j0 + i) * 34;
      __m512i lo[4], hi[4], codes[8];
      load_transpose(p, block + 2, lo);
      load_transpose(p, block + 18, hi);
      for (int g = 0; g < 4; ++g) {
        codes[g] = _mm512_xor_si512(lo[g], flip);
        codes[4 + g] = _mm512_xor_si512(hi[g], flip);
      }
      emit(j0 + i, codes, load_f16(p, block), _mm512_setzero_ps());
    }
  }
};

template <>
struct Unpack<Kind::Q4_0> {
  template <typename Emit>
  static inline void run(const Panel& p, int64_t j0, int n, Emit&& emit) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int i = 0; i < n; ++i) {
      const int64_t block = (j0 + i) * 18;
      __m512i t[4], codes[8];
      load_transpose(p, block + 2, t);
      for (int g = 0; g < 4; ++g) {
        codes[g] = _mm512_and_si512(t[g], low4);
        codes[4 + g] = _mm512_and_si512(_mm512_srli_epi16(t[g], 4), low4);
      }
      emit(j0 + i, codes, load_f16(p, block), _mm512_setzero_ps());
    }
  }
};

// j0 and n are multiples of 8 (whole super-blocks).
template <>
struct Unpack<Kind::Q4_K> {
  template <typename Emit>
  static inline void run(const Panel& p, int64_t j0, int n, Emit&& emit) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i six = _mm512_set1_epi32(63);
    const __m512i two = _mm512_set1_epi32(3);
    const __m512i nib = _mm512_set1_epi32(0x0f);
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (int s = 0; s < n / 8; ++s) {
      const int64_t block = (j0 / 8 + s) * 144;
      __m512i h[4];  // h[0] = d | dmin << 16, h[1..3] = scales[0..11]
      load_transpose(p, block, h);
      const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h[0]));
      const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(h[0], 16)));
      __m512 w_scale[8], w_min[8];
      for (int j = 0; j < 8; ++j) {
        __m512i scale, min;
        if (j < 4) {
          scale = _mm512_and_si512(_mm512_srli_epi32(h[1], 8 * j), six);
          min = _mm512_and_si512(_mm512_srli_epi32(h[2], 8 * j), six);
        } else {
          const int b = 8 * (j - 4);
          scale = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(h[3], b), nib),
                                  _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h[1], b + 6), two), 4));
          min = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(h[3], b + 4), nib),
                                _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h[2], b + 6), two), 4));
        }
        w_scale[j] = _mm512_mul_ps(d, _mm512_cvtepi32_ps(scale));
        w_min[j] = _mm512_xor_ps(_mm512_mul_ps(dmin, _mm512_cvtepi32_ps(min)), sign);
      }
      for (int c = 0; c < 4; ++c) {  // 32 bytes of qs: sub-block 2c in low nibbles, 2c + 1 in high
        __m512i lo[4], hi[4], codes[8];
        load_transpose(p, block + 16 + 32 * c, lo);
        load_transpose(p, block + 32 + 32 * c, hi);
        for (int g = 0; g < 4; ++g) {
          codes[g] = _mm512_and_si512(lo[g], low4);
          codes[4 + g] = _mm512_and_si512(hi[g], low4);
        }
        emit(j0 + 8 * s + 2 * c, codes, w_scale[2 * c], w_min[2 * c]);
        for (int g = 0; g < 4; ++g) {
          codes[g] = _mm512_and_si512(_mm512_srli_epi16(lo[g], 4), low4);
          codes[4 + g] = _mm512_and_si512(_mm512_srli_epi16(hi[g], 4), low4);
        }
        emit(j0 + 8 * s + 2 * c + 1, codes, w_scale[2 * c + 1], w_min[2 * c + 1]);
      }
    }
  }
};

// j0 and n are multiples of 16 (whole super-blocks).
template <>
struct Unpack<Kind::Q6_K> {
  template <typename Emit>
  static inline void run(const Panel& p, int64_t j0, int n, Emit&& emit) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i high2 = _mm512_set1_epi8(0x30);
    for (int s = 0; s < n / 16; ++s) {
      const int64_t block = (j0 / 16 + s) * 210;
      const __m512 d = load_f16(p, block + 208);
      __m512i sc[4];
      load_transpose(p, block + 192, sc);
      for (int half = 0; half < 2; ++half) {
        __m512i ql[4][4], qh[2][4];  // 16-byte pieces of this half's ql (64 bytes) and qh (32 bytes)
        for (int c = 0; c < 4; ++c) load_transpose(p, block + 64 * half + 16 * c, ql[c]);
        for (int c = 0; c < 2; ++c) load_transpose(p, block + 128 + 32 * half + 16 * c, qh[c]);
        for (int sub = 0; sub < 8; ++sub) {  // 16 values: quarter sub / 2, positions 16 * (sub % 2)..
          const int quarter = sub / 2;
          const __m512i* low_src = ql[2 * (quarter & 1) + sub % 2];
          const __m512i* high_src = qh[sub % 2];
          __m512i codes[4];
          for (int g = 0; g < 4; ++g) {
            const __m512i low = quarter < 2 ? _mm512_and_si512(low_src[g], low4)
                                            : _mm512_and_si512(_mm512_srli_epi16(low_src[g], 4), low4);
            __m512i high;
            switch (quarter) {  // bring bits 2q..2q+1 of each qh byte to bits 4..5
              case 0: high = _mm512_slli_epi16(high_src[g], 4); break;
              case 1: high = _mm512_slli_epi16(high_src[g], 2); break;
              case 2: high = high_src[g]; break;
              default: high = _mm512_srli_epi16(high_src[g], 2); break;
            }
            codes[g] = _mm512_or_si512(low, _mm512_and_si512(high, high2));
          }
          const int j = 8 * half + sub;
          const __m512i scale = _mm512_srai_epi32(_mm512_slli_epi32(sc[j / 4], 24 - 8 * (j % 4)), 24);
          emit(j0 + 16 * s + j, codes, _mm512_mul_ps(d, _mm512_cvtepi32_ps(scale)), _mm512_setzero_ps());
        }
      }
    }
  }
};

// Packs sub-blocks [j0, j0 + n) into dst (kSubBytes each) for reuse by several token tiles.
template <Kind K>
void pack(const Panel& p, int64_t j0, int n, uint8_t* dst) {
  using Tr = Traits<K>;
  Unpack<K>::run(p, j0, n, [&](int64_t j, const __m512i* codes, __m512 w_scale, __m512 w_min) {
    uint8_t* sub = dst + (j - j0) * Tr::kSubBytes;
    for (int g = 0; g < Tr::kGroups; ++g) _mm512_store_si512(sub + 64 * g, codes[g]);
    _mm512_store_ps(sub + Tr::kGroups * 64, w_scale);
    if constexpr (Tr::kHasMin) _mm512_store_ps(sub + Tr::kGroups * 64 + 64, w_min);
  });
}

// ---- compute: sub-blocks x up to 16 tokens -------------------------------------------------------

struct TokenView {
  const int8_t* act;        // token t0, column 0
  const int32_t* bias;      // token t0, sub-block 0
  const float* scale;
  const float* min;
  int64_t act_stride;       // cols
  int64_t side_stride;      // n_sub
};

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// Adds sub-block j (codes of 16 rows) times T tokens into acc.
template <Kind K, int T>
__attribute__((always_inline)) inline void compute_sub(int64_t j, const __m512i* codes, __m512 w_scale, __m512 w_min,
                                                       const TokenView& tv, __m512 acc[T]) {
  using Tr = Traits<K>;
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    const int8_t* a = tv.act + t * tv.act_stride + j * Tr::kSubValues;
    const int64_t side = t * tv.side_stride + j;
    // Two independent chains of vpdpbusd (even and odd groups), added at the end: the int32 sum is exact either
    // way, and with one or two tokens a single chain's latency, not the memory, would set the pace.
    __m512i isum = Tr::kHasBias ? _mm512_set1_epi32(tv.bias[side]) : _mm512_setzero_si512();
    __m512i isum_odd = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int g = 0; g < Tr::kGroups; g += 2) {
      isum = _mm512_dpbusd_epi32(isum, codes[g], _mm512_set1_epi32(load_i32(a + 4 * g)));
      isum_odd = _mm512_dpbusd_epi32(isum_odd, codes[g + 1], _mm512_set1_epi32(load_i32(a + 4 * g + 4)));
    }
    isum = _mm512_add_epi32(isum, isum_odd);
    const __m512 scale = _mm512_mul_ps(w_scale, _mm512_set1_ps(tv.scale[side]));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, acc[t]);
    if constexpr (Tr::kHasMin) acc[t] = _mm512_fmadd_ps(w_min, _mm512_set1_ps(tv.min[side]), acc[t]);
  }
}

// compute_sub with the activation side read from ActRecords: rec[t] is token t's record of sub-block j. One
// pointer and constant offsets reach all T tokens (with a pointer per token array, a 16-token tile spills its
// addresses to the stack and reloads them every sub-block).
template <Kind K, int T>
__attribute__((always_inline)) inline void compute_sub_records(const __m512i* codes, __m512 w_scale,
                                                               const ActRecord* rec, __m512 acc[T]) {
  static_assert(Traits<K>::kSubValues == 32 && !Traits<K>::kHasMin);
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
    __m512i isum = _mm512_set1_epi32(rec[t].bias);
    __m512i isum_odd = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int g = 0; g < 8; g += 2) {
      isum = _mm512_dpbusd_epi32(isum, codes[g], _mm512_set1_epi32(load_i32(rec[t].qs + 4 * g)));
      isum_odd = _mm512_dpbusd_epi32(isum_odd, codes[g + 1], _mm512_set1_epi32(load_i32(rec[t].qs + 4 * g + 4)));
    }
    isum = _mm512_add_epi32(isum, isum_odd);
    const __m512 scale = _mm512_mul_ps(w_scale, _mm512_set1_ps(rec[t].scale));
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, acc[t]);
  }
}

TokenView token_view(const QuantMatmulArgs& args, int64_t t0) {
  TokenView tv;
  tv.act = args.act_qs + t0 * args.cols;
  tv.bias = args.act_bias + t0 * args.n_sub;
  tv.scale = args.act_scale + t0 * args.n_sub;
  tv.min = args.act_min != nullptr ? args.act_min + t0 * args.n_sub : nullptr;
  tv.act_stride = args.cols;
  tv.side_stride = args.n_sub;
  return tv;
}

template <int T>
void store_tile(const QuantMatmulArgs& args, int64_t row0, int valid, int64_t t0, const __m512 acc[T]) {
  const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1);
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t)
    _mm512_mask_storeu_ps(args.y + (t0 + t) * args.ldy + row0 - args.y_row0, mask, acc[t]);
}

// Sixteen rows advance in step, each a separate stream that the hardware prefetchers follow poorly.
// Touching every row about 1 KiB (whole 256-column chunks) ahead keeps enough lines in flight for one
// core to stream at close to its full read rate; near the end of the rows it reaches into the
// following panels of the same task, so a panel does not start cold. Measured on this Zen core:
// 1 KiB beats 256-512 bytes by 1.5-2x; much more than that spills out of L1 before use.
// (always_inline: GCC's pure/const discovery deems a function that only prefetches side-effect free
// and deletes the call.)
constexpr int64_t kPrefetchBytes = 1024;

template <Kind K>
__attribute__((always_inline)) inline void prefetch_ahead(const Panel& p, int64_t j0, int64_t row_bytes,
                                                          int64_t rows_after) {
  using Tr = Traits<K>;
  constexpr int64_t kRawBytes = K == Kind::Q8_0 ? 272 : K == Kind::Q4_0 ? 144 : K == Kind::Q4_K ? 144 : 210;
  constexpr int64_t kChunksAhead = (kPrefetchBytes + kRawBytes - 1) / kRawBytes;
  const int64_t ahead = (j0 / Tr::kChunkSubs + kChunksAhead) * kRawBytes;
  const int64_t panels = ahead / row_bytes;  // 0: this panel; k: the k-th panel after it
  const int64_t at = ahead % row_bytes;
  const int64_t rows_left = panels == 0 ? kPanelRows : rows_after - (panels - 1) * kPanelRows;
  const int rows = static_cast<int>(rows_left <= 0 ? 0 : rows_left < kPanelRows ? rows_left : kPanelRows);
  const char* base = reinterpret_cast<const char*>(p.base) + panels * kPanelRows * row_bytes;
  if (p.valid < kPanelRows) return;  // a padded copy: nothing of the matrix follows it in this task
  for (int r = 0; r < rows; ++r) {
    const char* row = base + r * row_bytes;
    for (int64_t b = at; b < at + kRawBytes && b < row_bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
  }
}

// ---- decode path for q8_0 / q4_0: block scales straight from the weight stream -------------------

// With few tokens, fetching each block's fp16 scale separately (16 scalar loads) costs a third of the
// work. Instead 8 consecutive blocks (one chunk) are transposed as a raw byte stream, scales
// included, and every 4-byte group is multiplied with the same 4 bytes of an activation "image" laid
// out like the blocks: 0, 0 where the scale sits, then the block's activation codes. The scale
// bytes meet zeros, the scales come out of the transposed stream, and a 4-byte group never holds
// values of two blocks (a group straddling a block end holds the next block's scale bytes).
constexpr int kImageTokens = 4;

template <Kind K>
struct Stream {
  static constexpr int kBlockBytes = K == Kind::Q8_0 ? 34 : 18;
  static constexpr int kChunkBytes = 8 * kBlockBytes;
  static constexpr int kDwords = kChunkBytes / 4;  // 68 (q8_0) or 36 (q4_0)
  // q4_0 has two image planes per token: activations of the low nibbles, then of the high ones.
  static constexpr int64_t plane_bytes(int64_t cols) { return cols / 32 * kBlockBytes; }
  static constexpr int owner(int m) { return 4 * m / kBlockBytes; }  // block of 4-byte group m
  static constexpr bool first(int m) { return m == 0 || owner(m - 1) != owner(m); }
  static constexpr bool last(int m) { return m + 1 == kDwords || owner(m + 1) != owner(m); }
  static constexpr int scale_group(int b) { return kBlockBytes * b / 4; }
  static constexpr bool scale_high(int b) { return (kBlockBytes * b) % 4 != 0; }
};

template <Kind K, int T>
struct StreamState {
  __m512i w[4];          // the transposed 16-byte piece holding the current group
  __m512i isum[T];       // current block, per token (q4_0: low nibbles)
  __m512i isum_high[T];  // q4_0: high nibbles times 16
  __m512 scale[2];       // weight scales of the current block pair (even, odd)
};

template <Kind K, int T, int M>
__attribute__((always_inline)) inline void stream_group(StreamState<K, T>& st, const Panel& p, int64_t off,
                                                        int64_t j_base, const QuantMatmulArgs& args,
                                                        const TokenView& tv, __m512 acc[T]) {
  using S = Stream<K>;
  constexpr int kBlock = S::owner(M);
  if constexpr (M % 4 == 0) load_transpose(p, off + 4 * M, st.w);
  const __m512i w = st.w[M % 4];
  if constexpr (S::scale_group(kBlock) == M) {
    st.scale[kBlock % 2] = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(S::scale_high(kBlock) ? _mm512_srli_epi32(w, 16) : w));
  }
  if constexpr (kBlock + 1 < 8 && S::scale_group(kBlock + 1) == M) {
    st.scale[(kBlock + 1) % 2] =
        _mm512_cvtph_ps(_mm512_cvtepi32_epi16(S::scale_high(kBlock + 1) ? _mm512_srli_epi32(w, 16) : w));
  }
  const int64_t j = j_base + kBlock;
  if constexpr (S::first(M)) {
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      st.isum[t] = _mm512_set1_epi32(tv.bias[t * tv.side_stride + j]);
      if constexpr (K == Kind::Q4_0) st.isum_high[t] = _mm512_setzero_si512();
    }
  }
  const uint8_t* image = args.act_image + off + 4 * M;
  if constexpr (K == Kind::Q8_0) {
    const __m512i codes = _mm512_xor_si512(w, _mm512_set1_epi8(static_cast<char>(0x80)));
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      st.isum[t] = _mm512_dpbusd_epi32(st.isum[t], codes, _mm512_set1_epi32(load_i32(reinterpret_cast<const int8_t*>(image + t * args.image_stride))));
  } else {
    const __m512i low = _mm512_and_si512(w, _mm512_set1_epi8(0x0f));
    const __m512i high = _mm512_and_si512(w, _mm512_set1_epi8(static_cast<char>(0xf0)));  // 16 * nibble
    const int64_t plane = S::plane_bytes(args.cols);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      const int8_t* at = reinterpret_cast<const int8_t*>(image + t * args.image_stride);
      st.isum[t] = _mm512_dpbusd_epi32(st.isum[t], low, _mm512_set1_epi32(load_i32(at)));
      st.isum_high[t] = _mm512_dpbusd_epi32(st.isum_high[t], high, _mm512_set1_epi32(load_i32(at + plane)));
    }
  }
  if constexpr (S::last(M)) {
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      __m512i total = st.isum[t];
      if constexpr (K == Kind::Q4_0) total = _mm512_add_epi32(total, _mm512_srai_epi32(st.isum_high[t], 4));  // exact
      const __m512 scale = _mm512_mul_ps(st.scale[kBlock % 2], _mm512_set1_ps(tv.scale[t * tv.side_stride + j]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), scale, acc[t]);
    }
  }
}

template <Kind K, int T, int... M>
__attribute__((always_inline)) inline void stream_chunk_groups(std::integer_sequence<int, M...>, const Panel& p,
                                                               int64_t chunk, const QuantMatmulArgs& args,
                                                               const TokenView& tv, __m512 acc[T]) {
  StreamState<K, T> st;
  const int64_t off = chunk * Stream<K>::kChunkBytes;
  (stream_group<K, T, M>(st, p, off, chunk * 8, args, tv, acc), ...);
}

// Sub-blocks 8 * chunk .. 8 * chunk + 7 of the panel against T <= kImageTokens tokens.
template <Kind K, int T>
__attribute__((always_inline)) inline void stream_chunk(const Panel& p, int64_t chunk, const QuantMatmulArgs& args,
                                                        const TokenView& tv, __m512 acc[T]) {
  stream_chunk_groups<K, T>(std::make_integer_sequence<int, Stream<K>::kDwords>{}, p, chunk, args, tv, acc);
}

// T tokens starting at t0 against one panel: from the packed panel, or unpacking straight into the
// dot products 256 columns at a time (one pass over the weights, no scratch).
template <Kind K, int T>
void panel_tile(const QuantMatmulArgs& args, const Panel& p, int64_t row0, int64_t t0, const uint8_t* packed,
                int64_t rows_after) {
  using Tr = Traits<K>;
  const TokenView tv = token_view(args, t0);
  __m512 acc[T];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  if (packed != nullptr) {
    for (int64_t j = 0; j < args.n_sub; ++j) {
      const uint8_t* sub = packed + j * Tr::kSubBytes;
      __m512i codes[Tr::kGroups];
#pragma GCC unroll 8
      for (int g = 0; g < Tr::kGroups; ++g) codes[g] = _mm512_load_si512(sub + 64 * g);
      const __m512 w_min = Tr::kHasMin ? _mm512_load_ps(sub + Tr::kGroups * 64 + 64) : _mm512_setzero_ps();
      compute_sub<K, T>(j, codes, _mm512_load_ps(sub + Tr::kGroups * 64), w_min, tv, acc);
    }
  } else {
    for (int64_t j0 = 0; j0 < args.n_sub; j0 += Tr::kChunkSubs) {
      const int n = static_cast<int>(args.n_sub - j0 < Tr::kChunkSubs ? args.n_sub - j0 : Tr::kChunkSubs);
      prefetch_ahead<K>(p, j0, args.row_bytes, rows_after);
      if constexpr ((K == Kind::Q8_0 || K == Kind::Q4_0) && T <= kImageTokens) {
        if (args.act_image != nullptr && n == Tr::kChunkSubs) {
          stream_chunk<K, T>(p, j0 / Tr::kChunkSubs, args, tv, acc);
          continue;
        }
      }
      Unpack<K>::run(p, j0, n, [&](int64_t j, const __m512i* codes, __m512 w_scale, __m512 w_min) {
        compute_sub<K, T>(j, codes, w_scale, w_min, tv, acc);
      });
    }
  }
  store_tile<T>(args, row0, p.valid, t0, acc);
}

template <Kind K, int T = kMaxTileTokens>
void dispatch_tile(int tokens, const QuantMatmulArgs& args, const Panel& p, int64_t row0, int64_t t0,
                   const uint8_t* packed, int64_t rows_after) {
  if constexpr (T > 1) {
    if (tokens < T) return dispatch_tile<K, T - 1>(tokens, args, p, row0, t0, packed, rows_after);
  }
  panel_tile<K, T>(args, p, row0, t0, packed, rows_after);
}

// ---- prepacked q8_0 / q4_0: the matrix re-laid out once, at load, in the order the loops read it ----

// Reading GGUF rows in place means 16 interleaved row streams, a transpose per 16 bytes of each row and 16
// scalar scale loads per block: the decode loop then runs at ~0.7 of the read bandwidth. Prepacked, each
// thread reads one sequential stream of exactly what it multiplies, and the matrix takes the same bytes
// as in the file (fp16 scales kept).
// Per panel of 16 rows, per chunk of up to 8 blocks (256 columns): the chunk's block scales (16 fp16 per
// block, 32 bytes; the region padded to 64), then per block its transposed codes as Unpack yields them
// (q8_0: 8 zmm already offset to unsigned; q4_0: 4 zmm of packed nibbles, low = codes 4g.., high =
// codes 16 + 4g..). Rows past the matrix's end are zero.
template <Kind K>
struct Packed {
  static constexpr int64_t kCodeBytes = K == Kind::Q8_0 ? 512 : 256;  // one block of 16 rows
  static constexpr int64_t chunk_bytes(int64_t blocks) { return (32 * blocks + 63) / 64 * 64 + kCodeBytes * blocks; }
  static constexpr int64_t panel_bytes(int64_t cols) {
    const int64_t blocks = cols / 32;
    return blocks / 8 * chunk_bytes(8) + (blocks % 8 != 0 ? chunk_bytes(blocks % 8) : 0);
  }
};

template <Kind K>
void prepack_panels(const uint8_t* weights, int64_t rows, int64_t cols, int64_t row_begin, int64_t row_end,
                    uint8_t* dst) {
  using P = Packed<K>;
  constexpr int64_t kBlockBytes = K == Kind::Q8_0 ? 34 : 18;
  const int64_t row_bytes = cols / 32 * kBlockBytes;
  const int64_t n_blocks = cols / 32;
  alignas(64) uint8_t pad[kPanelRows * 8 * 34];  // one chunk of a last, partial panel
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kPanelRows) {
    const int valid = static_cast<int>(rows - row0 < kPanelRows ? rows - row0 : kPanelRows);
    uint8_t* out = dst + row0 / kPanelRows * P::panel_bytes(cols);
    for (int64_t b0 = 0; b0 < n_blocks; b0 += 8) {
      const int n = static_cast<int>(n_blocks - b0 < 8 ? n_blocks - b0 : 8);
      Panel p{weights + row0 * row_bytes + b0 * kBlockBytes, row_bytes, valid};
      if (valid < kPanelRows) {
        __builtin_memset(pad, 0, sizeof pad);
        for (int r = 0; r < valid; ++r) __builtin_memcpy(pad + r * 8 * kBlockBytes, p.base + r * row_bytes, n * kBlockBytes);
        p = Panel{pad, 8 * kBlockBytes, valid};
      }
      uint8_t* scales = out;
      uint8_t* codes = out + (32 * n + 63) / 64 * 64;
      __builtin_memset(scales, 0, static_cast<size_t>(codes - scales));
      for (int i = 0; i < n; ++i) {
        for (int r = 0; r < kPanelRows; ++r) __builtin_memcpy(scales + 32 * i + 2 * r, p.base + r * p.stride + i * kBlockBytes, 2);
        __m512i t[4];
        if constexpr (K == Kind::Q8_0) {
          const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
          for (int half = 0; half < 2; ++half) {
            load_transpose(p, i * kBlockBytes + 2 + 16 * half, t);
            for (int g = 0; g < 4; ++g) _mm512_store_si512(codes + 512 * i + 64 * (4 * half + g), _mm512_xor_si512(t[g], flip));
          }
        } else {
          load_transpose(p, i * kBlockBytes + 2, t);
          for (int g = 0; g < 4; ++g) _mm512_store_si512(codes + 256 * i + 64 * g, t[g]);
        }
      }
      out += P::chunk_bytes(n);
    }
  }
}

// Distance the prepacked stream is touched ahead of use. The hardware prefetchers alone keep too few lines in
// flight on this machine (the TinyLlama q4_0 matmuls stream ~40 GB/s without software prefetch when a plain read
// loop gets ~70), so every line is touched ahead. Measured over hundreds of alternating passes, as a fraction of
// a plain read loop's rate when it delivers 65-75 / 75+ GB/s: 2 KiB ahead 83 / 77 %, 8 KiB 92 / 86 %, 8 KiB with
// the chunk's scale lines touched too 96 / 89 %; 16 KiB is no better (all ~100 % below 55 GB/s).
constexpr int64_t kPackedPrefetchBytes = 8192;

// The 8 code zmm of one block of a prepacked panel.
template <Kind K>
__attribute__((always_inline)) inline void load_block_codes(const uint8_t* block, __m512i c[8]) {
  if constexpr (K == Kind::Q8_0) {
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) c[g] = _mm512_load_si512(block + 64 * g);
  } else {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
      const __m512i v = _mm512_load_si512(block + 64 * g);
      c[g] = _mm512_and_si512(v, low4);
      c[4 + g] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
  }
}

// T tokens starting at t0 against one prepacked panel.
template <Kind K, int T>
void packed_tile(const QuantMatmulArgs& args, const uint8_t* panel, int valid, int64_t row0, int64_t t0) {
  using P = Packed<K>;
  const ActRecord* records = args.act_records + t0 * args.n_sub;
  __m512 acc[T];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const uint8_t* at = panel;
  for (int64_t j0 = 0; j0 < args.n_sub; j0 += 8) {
    const int n = static_cast<int>(args.n_sub - j0 < 8 ? args.n_sub - j0 : 8);
    const int64_t scale_bytes = (32 * n + 63) / 64 * 64;
    const uint8_t* codes = at + scale_bytes;
    // Every line of the stream is touched once, kPackedPrefetchBytes ahead: the scale lines at the chunk's start,
    // each block's code lines with the block (a line that is never touched ahead stalls the loop). Only plain
    // adds and constant strides here: this runs once per 256-512 bytes of a loop that moves ~10 bytes a cycle.
    const char* ahead = reinterpret_cast<const char*>(at) + kPackedPrefetchBytes;
    if (t0 == 0) {  // later token tiles reread the panel from L1/L2: touching further ahead would evict it
      for (int64_t b = 0; b < scale_bytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
    }
    for (int i = 0; i < n; ++i) {
      const uint8_t* block = codes + P::kCodeBytes * i;
      if (t0 == 0) {
        const char* block_ahead = ahead + scale_bytes + P::kCodeBytes * i;
#pragma GCC unroll 8
        for (int64_t b = 0; b < P::kCodeBytes; b += 64) _mm_prefetch(block_ahead + b, _MM_HINT_T0);
      }
      const __m512 w_scale = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(at + 32 * i)));
      __m512i c[8];
      load_block_codes<K>(block, c);
      compute_sub_records<K, T>(c, w_scale, records + (j0 + i) * T, acc);
    }
    at += P::chunk_bytes(n);
  }
  store_tile<T>(args, row0, valid, t0, acc);
}

// ---- prepacked q8_0 / q4_0: two panels at a time ------------------------------------------------------------

// With one panel, every vpdpbusd needs its own broadcast load of 4 activation bytes, and this core issues one
// 512-bit load a cycle: a 16-token tile then runs at ~0.6 vpdpbusd a cycle however its tokens are interleaved
// (a bare vpdpbusd loop: ~1.4). Two panels (32 rows) side by side share each broadcast between two vpdpbusd, and
// a block's codes of both panels (16 zmm) are loaded and unpacked once for all tokens. That leaves too few
// registers for the f32 sums of 2 x 16 tokens, so they live in a small array in L1 (one load and store per
// token, block and panel: an eighth of the vpdpbusd). The arithmetic per output is exactly packed_tile's.
constexpr int kPairTokens = 4;  // from this many tokens on, a pair tile keeps its f32 sums in L1 (below: registers)
// Tokens whose vpdpbusd chains run interleaved: 2 x 4 sums and 16 code zmm fill the registers (8 spills; 3 runs
// as fast as 4 on Ice Lake, where the tile is bound by its vector ALU ops, not by latency).
constexpr int kPairGroup = 4;

// The exact int32 sums of N tokens (records rec[0..N)) with one sub-block of panels a and b, each token's chains
// interleaved with the others' (2N independent vpdpbusd chains).
template <int N>
__attribute__((always_inline)) inline void pair_sums(const __m512i* a, const __m512i* b, const ActRecord* rec,
                                                     __m512i sum_a[N], __m512i sum_b[N]) {
#pragma GCC unroll 4
  for (int t = 0; t < N; ++t) {
    const __m512i bias = _mm512_set1_epi32(rec[t].bias);
    const __m512i x = _mm512_set1_epi32(load_i32(rec[t].qs));
    sum_a[t] = _mm512_dpbusd_epi32(bias, a[0], x);
    sum_b[t] = _mm512_dpbusd_epi32(bias, b[0], x);
  }
#pragma GCC unroll 8
  for (int g = 1; g < 8; ++g) {
#pragma GCC unroll 4
    for (int t = 0; t < N; ++t) {
      const __m512i x = _mm512_set1_epi32(load_i32(rec[t].qs + 4 * g));
      sum_a[t] = _mm512_dpbusd_epi32(sum_a[t], a[g], x);
      sum_b[t] = _mm512_dpbusd_epi32(sum_b[t], b[g], x);
    }
  }
}

// N tokens of a sub-block into f32 sums kept in L1: acc_a / acc_b, 16 floats per token.
template <int N>
__attribute__((always_inline)) inline void pair_group(const __m512i* a, const __m512i* b, __m512 ws_a, __m512 ws_b,
                                                      const ActRecord* rec, float* acc_a, float* acc_b) {
  __m512i sum_a[N], sum_b[N];
  pair_sums<N>(a, b, rec, sum_a, sum_b);
#pragma GCC unroll 4
  for (int t = 0; t < N; ++t) {
    const __m512 act_scale = _mm512_set1_ps(rec[t].scale);
    float* pa = acc_a + 16 * t;
    float* pb = acc_b + 16 * t;
    _mm512_store_ps(pa, _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_a[t]), _mm512_mul_ps(ws_a, act_scale), _mm512_load_ps(pa)));
    _mm512_store_ps(pb, _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_b[t]), _mm512_mul_ps(ws_b, act_scale), _mm512_load_ps(pb)));
  }
}

// Tokens t0 .. t0 + tokens - 1 (a tile of at most 16) against the prepacked panels `a` and `a + panel_bytes`
// (rows row0 .. row0 + 31, valid_b of the second stored).
template <Kind K>
void packed_pair_tile(const QuantMatmulArgs& args, const uint8_t* a, int64_t panel_bytes, int valid_b, int64_t row0,
                      int64_t t0, int tokens) {
  using P = Packed<K>;
  const ActRecord* records = args.act_records + t0 * args.n_sub;
  alignas(64) float acc[2][kMaxTileTokens][16] = {};
  const uint8_t* at = a;
  for (int64_t j0 = 0; j0 < args.n_sub; j0 += 8) {
    const int n = static_cast<int>(args.n_sub - j0 < 8 ? args.n_sub - j0 : 8);
    const int64_t scale_bytes = (32 * n + 63) / 64 * 64;
    for (int i = 0; i < n; ++i) {
      const uint8_t* block = at + scale_bytes + P::kCodeBytes * i;
      if (t0 == 0) {  // both panels' next chunk, a block's lines at a time (its scale lines with block 0)
        const char* ahead = reinterpret_cast<const char*>(block) + P::chunk_bytes(8);
#pragma GCC unroll 8
        for (int64_t b = 0; b < P::kCodeBytes; b += 64) {
          _mm_prefetch(ahead + b, _MM_HINT_T0);
          _mm_prefetch(ahead + panel_bytes + b, _MM_HINT_T0);
        }
        if (i == 0) {
          const char* scales_ahead = reinterpret_cast<const char*>(at) + P::chunk_bytes(n);
          _mm_prefetch(scales_ahead, _MM_HINT_T0);
          _mm_prefetch(scales_ahead + 64, _MM_HINT_T0);
          _mm_prefetch(scales_ahead + panel_bytes, _MM_HINT_T0);
          _mm_prefetch(scales_ahead + panel_bytes + 64, _MM_HINT_T0);
        }
      }
      __m512i ca[8], cb[8];
      load_block_codes<K>(block, ca);
      load_block_codes<K>(block + panel_bytes, cb);
      const __m512 ws_a = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(at + 32 * i)));
      const __m512 ws_b = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(at + panel_bytes + 32 * i)));
      const ActRecord* rec = records + (j0 + i) * tokens;
      int t = 0;
      for (; t + kPairGroup <= tokens; t += kPairGroup)
        pair_group<kPairGroup>(ca, cb, ws_a, ws_b, rec + t, acc[0][t], acc[1][t]);
      switch (tokens - t) {
        case 3: pair_group<3>(ca, cb, ws_a, ws_b, rec + t, acc[0][t], acc[1][t]); break;
        case 2: pair_group<2>(ca, cb, ws_a, ws_b, rec + t, acc[0][t], acc[1][t]); break;
        case 1: pair_group<1>(ca, cb, ws_a, ws_b, rec + t, acc[0][t], acc[1][t]); break;
        default: break;
      }
    }
    at += P::chunk_bytes(n);
  }
  const __mmask16 mask_b = static_cast<__mmask16>((1u << valid_b) - 1);
  for (int t = 0; t < tokens; ++t) {
    float* y = args.y + (t0 + t) * args.ldy + row0 - args.y_row0;
    _mm512_storeu_ps(y, _mm512_load_ps(acc[0][t]));
    _mm512_mask_storeu_ps(y + kPanelRows, mask_b, _mm512_load_ps(acc[1][t]));
  }
}

// The same for T < kPairTokens tokens (decode): sums in registers, and the two panels are two memory streams
// (reading two streams side by side keeps more lines in flight than one: a plain read loop over pairs of
// 18 KB panels gets ~10 % more from memory on one core than over one sequential range). Every line of both is
// touched kPackedPrefetchBytes ahead; past the end of a panel that distance lands in the next pair, not in the
// partner panel that is being read already.
template <Kind K, int T>
void packed_pair_tile_few(const QuantMatmulArgs& args, const uint8_t* a, int64_t panel_bytes, int valid_b,
                          int64_t row0) {
  using P = Packed<K>;
  const ActRecord* records = args.act_records;
  __m512 acc_a[T], acc_b[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) acc_a[t] = acc_b[t] = _mm512_setzero_ps();
  auto touch_ahead = [&](int64_t offset) {  // the line at `offset` of both panels, kPackedPrefetchBytes later
    const int64_t ahead = offset + kPackedPrefetchBytes;
    const char* line = reinterpret_cast<const char*>(a) + ahead + (ahead >= panel_bytes ? panel_bytes : 0);
    _mm_prefetch(line, _MM_HINT_T0);
    _mm_prefetch(line + panel_bytes, _MM_HINT_T0);
  };
  int64_t offset = 0;  // of the current chunk in each panel
  for (int64_t j0 = 0; j0 < args.n_sub; j0 += 8) {
    const int n = static_cast<int>(args.n_sub - j0 < 8 ? args.n_sub - j0 : 8);
    const int64_t scale_bytes = (32 * n + 63) / 64 * 64;
    for (int64_t b = 0; b < scale_bytes; b += 64) touch_ahead(offset + b);
    const uint8_t* at = a + offset;
    for (int i = 0; i < n; ++i) {
      const int64_t block_offset = offset + scale_bytes + P::kCodeBytes * i;
#pragma GCC unroll 8
      for (int64_t b = 0; b < P::kCodeBytes; b += 64) touch_ahead(block_offset + b);
      __m512i ca[8], cb[8];
      load_block_codes<K>(a + block_offset, ca);
      load_block_codes<K>(a + panel_bytes + block_offset, cb);
      const __m512 ws_a = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(at + 32 * i)));
      const __m512 ws_b = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(at + panel_bytes + 32 * i)));
      const ActRecord* rec = records + (j0 + i) * T;
      __m512i sum_a[T], sum_b[T];
      pair_sums<T>(ca, cb, rec, sum_a, sum_b);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        const __m512 act_scale = _mm512_set1_ps(rec[t].scale);
        acc_a[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_a[t]), _mm512_mul_ps(ws_a, act_scale), acc_a[t]);
        acc_b[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum_b[t]), _mm512_mul_ps(ws_b, act_scale), acc_b[t]);
      }
    }
    offset += P::chunk_bytes(n);
  }
  const __mmask16 mask_b = static_cast<__mmask16>((1u << valid_b) - 1);
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) {
    float* y = args.y + t * args.ldy + row0 - args.y_row0;
    _mm512_storeu_ps(y, acc_a[t]);
    _mm512_mask_storeu_ps(y + kPanelRows, mask_b, acc_b[t]);
  }
}

template <Kind K, int T = kMaxTileTokens>
void dispatch_packed_tile(int tokens, const QuantMatmulArgs& args, const uint8_t* panel, int valid, int64_t row0,
                          int64_t t0) {
  if constexpr (T > 1) {
    if (tokens < T) return dispatch_packed_tile<K, T - 1>(tokens, args, panel, valid, row0, t0);
  }
  packed_tile<K, T>(args, panel, valid, row0, t0);
}

// Token tiles of 16 reread the panel from L1/L2 (about 35 KB for 2048 columns).
template <Kind K>
void packed_rows(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end) {
  const int64_t panel_bytes = Packed<K>::panel_bytes(args.cols);
  {  // Streams that start here (a thread's home, a stolen piece) would wait for their first lines one by one.
    const uint8_t* start = args.prepacked + row_begin / kPanelRows * panel_bytes;
    const int64_t panels = (row_end - row_begin + kPanelRows - 1) / kPanelRows;
    const int64_t n = std::min<int64_t>(kPackedPrefetchBytes, panel_bytes);
    for (int64_t p = 0; p < std::min<int64_t>(panels, 2); ++p)
      for (int64_t b = 0; b < n; b += 64) _mm_prefetch(reinterpret_cast<const char*>(start + p * panel_bytes + b), _MM_HINT_T0);
  }
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kPanelRows) {
    const uint8_t* panel = args.prepacked + row0 / kPanelRows * panel_bytes;
    if (row_end - row0 > kPanelRows) {
      const int valid_b = static_cast<int>(row_end - row0 < 2 * kPanelRows ? row_end - row0 - kPanelRows : kPanelRows);
      static_assert(kPairTokens == 4, "decode takes packed_pair_tile_few for 1 to kPairTokens - 1 tokens");
      if (args.n_tokens == 1) {
        packed_pair_tile_few<K, 1>(args, panel, panel_bytes, valid_b, row0);
      } else if (args.n_tokens == 2) {
        packed_pair_tile_few<K, 2>(args, panel, panel_bytes, valid_b, row0);
      } else if (args.n_tokens == 3) {
        packed_pair_tile_few<K, 3>(args, panel, panel_bytes, valid_b, row0);
      } else {
        for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kMaxTileTokens) {
          const int64_t tokens = args.n_tokens - t0 < kMaxTileTokens ? args.n_tokens - t0 : kMaxTileTokens;
          packed_pair_tile<K>(args, panel, panel_bytes, valid_b, row0, t0, static_cast<int>(tokens));
        }
      }
      row0 += kPanelRows;
      continue;
    }
    const int valid = static_cast<int>(row_end - row0 < kPanelRows ? row_end - row0 : kPanelRows);
    for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kMaxTileTokens) {
      const int64_t tokens = args.n_tokens - t0 < kMaxTileTokens ? args.n_tokens - t0 : kMaxTileTokens;
      dispatch_packed_tile<K>(static_cast<int>(tokens), args, panel, valid, row0, t0);
    }
  }
}

template <Kind K>
void quant_rows(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end, int64_t reach_end, uint8_t* scratch) {
  if constexpr (K == Kind::Q8_0 || K == Kind::Q4_0) {
    if (args.prepacked != nullptr) return packed_rows<K>(args, row_begin, row_end);
  }
  uint8_t* pad = scratch;  // kPanelRows rows, then (more than 16 tokens) the packed panel
  uint8_t* packed = scratch + (kPanelRows * args.row_bytes + 63) / 64 * 64;
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kPanelRows) {
    const Panel p = make_panel(args, row0, row_end, pad);
    if (args.n_tokens <= kMaxTileTokens) {
      const int64_t rows_after = reach_end - row0 - kPanelRows;  // rows this thread goes on with past the panel
      dispatch_tile<K>(static_cast<int>(args.n_tokens), args, p, row0, 0, nullptr, rows_after);
      continue;
    }
    pack<K>(p, 0, static_cast<int>(args.n_sub), packed);
    for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kMaxTileTokens) {
      const int64_t tokens = args.n_tokens - t0 < kMaxTileTokens ? args.n_tokens - t0 : kMaxTileTokens;
      dispatch_tile<K>(static_cast<int>(tokens), args, p, row0, t0, packed, 0);
    }
  }
}

// ---- float weights --------------------------------------------------------------------------------

constexpr int kFloatRows = 4;
constexpr int kFloatTokens = 5;
constexpr int64_t kFloatPrefetchBytes = 1024;  // per row, like the quantized decode path

template <DType D>
inline __m512 load_weights(const void* row, int64_t k) {
  if constexpr (D == DType::F32) {
    return _mm512_loadu_ps(static_cast<const float*>(row) + k);
  } else if constexpr (D == DType::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + k)));
  } else {
    const __m512i wide = _mm512_cvtepu16_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + k)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
}

template <DType D>
inline __m512 load_weights_tail(const void* row, int64_t k, __mmask16 mask) {
  if constexpr (D == DType::F32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(row) + k);
  } else if constexpr (D == DType::F16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + k));
  } else {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + k));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
}

// The fixed 16 -> 1 reduction: lanes i + 8, then + 4, + 2, + 1.
inline float reduce16(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
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
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= args.cols; k += 16) {
    if (T <= 2 && (k * kElemBytes) % 64 == 0) {  // decode: stay ahead of the row streams
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r)
        _mm_prefetch(static_cast<const char*>(rows[r]) + k * kElemBytes + kFloatPrefetchBytes, _MM_HINT_T0);
    }
    __m512 w[R];
    for (int r = 0; r < R; ++r) w[r] = load_weights<D>(rows[r], k);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_loadu_ps(x[t] + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w[r], xv, acc[r][t]);
    }
  }
  if (k < args.cols) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (args.cols - k)) - 1);
    __m512 w[R];
    for (int r = 0; r < R; ++r) w[r] = load_weights_tail<D>(rows[r], k, mask);
    for (int t = 0; t < T; ++t) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x[t] + k);
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(w[r], xv, acc[r][t]);
    }
  }
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < R; ++r) args.y[(t0 + t) * args.ldy + row0 + r - args.y_row0] = reduce16(acc[r][t]);
}

template <DType D, int R, int T = kFloatTokens>
void float_tile_tokens(int tokens, const FloatMatmulArgs& args, int64_t row0, int64_t t0) {
  if constexpr (T > 1) {
    if (tokens < T) return float_tile_tokens<D, R, T - 1>(tokens, args, row0, t0);
  }
  float_tile<D, R, T>(args, row0, t0);
}

template <DType D, int R = kFloatRows>
void float_tile_rows(int rows, int tokens, const FloatMatmulArgs& args, int64_t row0, int64_t t0) {
  if constexpr (R > 1) {
    if (rows < R) return float_tile_rows<D, R - 1>(rows, tokens, args, row0, t0);
  }
  float_tile_tokens<D, R>(tokens, args, row0, t0);
}

template <DType D>
void float_rows(const FloatMatmulArgs& args, int64_t row_begin, int64_t row_end) {
  for (int64_t row0 = row_begin; row0 < row_end; row0 += kFloatRows) {
    const int rows = static_cast<int>(row_end - row0 < kFloatRows ? row_end - row0 : kFloatRows);
    for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kFloatTokens) {
      const int tokens = static_cast<int>(args.n_tokens - t0 < kFloatTokens ? args.n_tokens - t0 : kFloatTokens);
      float_tile_rows<D>(rows, tokens, args, row0, t0);
    }
  }
}

}  // namespace

int64_t quant_scratch_bytes(DType dtype, int64_t cols, int64_t n_tokens) {
  const int64_t pad = (kPanelRows * dtype_bytes_for(dtype, cols) + 63) / 64 * 64;  // a padded last panel
  if (n_tokens <= kMaxTileTokens) return pad;
  switch (dtype) {
    case DType::Q8_0: return pad + cols / 32 * Traits<Kind::Q8_0>::kSubBytes;
    case DType::Q4_0: return pad + cols / 32 * Traits<Kind::Q4_0>::kSubBytes;
    case DType::Q4_K: return pad + cols / 32 * Traits<Kind::Q4_K>::kSubBytes;
    case DType::Q6_K: return pad + cols / 16 * Traits<Kind::Q6_K>::kSubBytes;
    default: return pad;
  }
}

int64_t act_image_bytes(DType dtype, int64_t cols, int64_t n_tokens) {
  if (n_tokens > kImageTokens) return 0;
  if (dtype == DType::Q8_0) return Stream<Kind::Q8_0>::plane_bytes(cols);
  if (dtype == DType::Q4_0) return 2 * Stream<Kind::Q4_0>::plane_bytes(cols);
  return 0;
}

void build_act_image(DType dtype, const int8_t* qs, int64_t cols, int64_t n_tokens, uint8_t* image) {
  const int64_t stride = act_image_bytes(dtype, cols, n_tokens);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int8_t* a = qs + t * cols;
    uint8_t* out = image + t * stride;
    for (int64_t b = 0; b < cols / 32; ++b) {
      if (dtype == DType::Q8_0) {  // [0, 0, a0 .. a31] per 34-byte block
        out[34 * b] = out[34 * b + 1] = 0;
        __builtin_memcpy(out + 34 * b + 2, a + 32 * b, 32);
      } else {  // low-nibble plane [0, 0, a0 .. a15], high-nibble plane [0, 0, a16 .. a31]
        uint8_t* high = out + stride / 2;
        out[18 * b] = out[18 * b + 1] = high[18 * b] = high[18 * b + 1] = 0;
        __builtin_memcpy(out + 18 * b + 2, a + 32 * b, 16);
        __builtin_memcpy(high + 18 * b + 2, a + 32 * b + 16, 16);
      }
    }
  }
}

int64_t prepacked_bytes(DType dtype, int64_t rows, int64_t cols) {
  const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
  if (dtype == DType::Q8_0) return panels * Packed<Kind::Q8_0>::panel_bytes(cols);
  if (dtype == DType::Q4_0) return panels * Packed<Kind::Q4_0>::panel_bytes(cols);
  return 0;
}

void prepack(DType dtype, const uint8_t* weights, int64_t rows, int64_t cols, int64_t row_begin, int64_t row_end,
             uint8_t* dst) {
  if (dtype == DType::Q8_0) prepack_panels<Kind::Q8_0>(weights, rows, cols, row_begin, row_end, dst);
  if (dtype == DType::Q4_0) prepack_panels<Kind::Q4_0>(weights, rows, cols, row_begin, row_end, dst);
}

void quant_matmul(const QuantMatmulArgs& args, int64_t row_begin, int64_t row_end, int64_t reach_end,
                  uint8_t* scratch) {
  switch (args.dtype) {
    case DType::Q8_0: return quant_rows<Kind::Q8_0>(args, row_begin, row_end, reach_end, scratch);
    case DType::Q4_0: return quant_rows<Kind::Q4_0>(args, row_begin, row_end, reach_end, scratch);
    case DType::Q4_K: return quant_rows<Kind::Q4_K>(args, row_begin, row_end, reach_end, scratch);
    case DType::Q6_K: return quant_rows<Kind::Q6_K>(args, row_begin, row_end, reach_end, scratch);
    default: return;
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

}  // namespace helix::cpu::avx512
