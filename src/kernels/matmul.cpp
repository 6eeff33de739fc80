#include "kernels/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "common/result.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/thread_pool.h"

namespace helix {
namespace {

using cpu::Kernels;

bool is_quantized(DType dtype) {
  return dtype == DType::Q8_0 || dtype == DType::Q4_0 || dtype == DType::Q4_K || dtype == DType::Q6_K;
}

// Per-thread scratch, 64-byte aligned, grown on demand and kept for the thread's life.
uint8_t* thread_scratch(int64_t bytes) {
  struct Buffer {
    uint8_t* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (buffer.size < bytes) {
    std::free(buffer.data);
    const int64_t rounded = (bytes + 4095) / 4096 * 4096;
    buffer.data = static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>(rounded)));
    HELIX_CHECK(buffer.data != nullptr, "matmul: cannot allocate {} bytes of scratch", rounded);
    buffer.size = rounded;
  }
  return buffer.data;
}

// Splits `rows` into contiguous chunks (multiples of `align`) so each thread streams long runs of
// memory, with enough chunks (about 8 per thread) to even out threads that get descheduled.
struct RowChunks {
  int64_t chunk_rows;
  int64_t n_chunks;
};

RowChunks split_rows(int64_t rows, int64_t align, int n_threads) {
  const int64_t units = (rows + align - 1) / align;
  const int64_t wanted = n_threads == 1 ? 1 : int64_t{8} * n_threads;
  const int64_t units_per_chunk = std::max<int64_t>(1, (units + wanted - 1) / wanted);
  const int64_t chunk_rows = units_per_chunk * align;
  return {chunk_rows, (rows + chunk_rows - 1) / chunk_rows};
}

// The activation side of each sub-block's integer sum, per token (see QuantMatmulArgs).
struct SideInfo {
  std::vector<int32_t> bias;
  std::vector<float> scale;
  std::vector<float> min;
};

void fill_side_info(const Kernels& kernels, DType dtype, const QuantizedActivations& a, SideInfo* side) {
  const int64_t sub = dtype == DType::Q6_K ? 16 : 32;
  const int64_t n_sub = a.cols / sub;
  const int offset = dtype == DType::Q8_0 ? kernels.q8_0_code_offset
                     : dtype == DType::Q4_0 ? 8
                     : dtype == DType::Q6_K ? 32
                                            : 0;
  const size_t total = static_cast<size_t>(a.n_tokens * n_sub);
  side->bias.resize(total);
  side->scale.resize(total);
  if (dtype == DType::Q4_K) side->min.resize(total);
  for (int64_t t = 0; t < a.n_tokens; ++t) {
    const int32_t* sums16 = a.sums16.data() + t * (a.cols / 16);
    const float* scales = a.scales.data() + t * (a.cols / 32);
    for (int64_t j = 0; j < n_sub; ++j) {
      const int32_t sum = sub == 16 ? sums16[j] : sums16[2 * j] + sums16[2 * j + 1];
      const float scale = scales[j * sub / 32];
      side->bias[t * n_sub + j] = -offset * sum;
      side->scale[t * n_sub + j] = scale;
      if (dtype == DType::Q4_K) side->min[t * n_sub + j] = scale * static_cast<float>(sum);
    }
  }
}

void check_matrix(const WeightMatrix& w) {
  const DTypeInfo& info = dtype_info(w.dtype);
  HELIX_CHECK(w.data != nullptr && w.rows > 0 && w.cols > 0 && w.cols % info.block_values == 0,
              "matmul: bad {} matrix [{} rows x {} cols] (cols must be a multiple of {})", info.name,
              w.rows, w.cols, info.block_values);
}

void quant_matmul(const Kernels& kernels, const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                  const QuantizedActivations& a, float* y, int64_t ldy, ThreadPool& pool) {
  HELIX_CHECK(a.cols == w.cols, "matmul: activations have {} columns, the {} matrix {}", a.cols,
              dtype_name(w.dtype), w.cols);
  thread_local SideInfo side;
  fill_side_info(kernels, w.dtype, a, &side);
  cpu::QuantMatmulArgs args;
  args.dtype = w.dtype;
  args.weights = static_cast<const uint8_t*>(w.data);
  args.row_bytes = row_bytes(w);
  args.rows = w.rows;
  args.cols = w.cols;
  args.n_tokens = a.n_tokens;
  args.act_qs = a.qs.data();
  args.n_sub = w.cols / (w.dtype == DType::Q6_K ? 16 : 32);
  args.act_bias = side.bias.data();
  args.act_scale = side.scale.data();
  args.act_min = w.dtype == DType::Q4_K ? side.min.data() : nullptr;
  args.y = y;
  args.ldy = ldy;
  args.y_row0 = row_begin;
  const int64_t scratch_bytes = kernels.quant_scratch_bytes(w.dtype, w.cols, a.n_tokens);
  const RowChunks chunks = split_rows(row_end - row_begin, kernels.quant_row_align, pool.size());
  pool.parallel_for(chunks.n_chunks, [&](int64_t task, int) {
    const int64_t r0 = row_begin + task * chunks.chunk_rows;
    const int64_t r1 = std::min(row_end, r0 + chunks.chunk_rows);
    kernels.quant_matmul(args, r0, r1, scratch_bytes > 0 ? thread_scratch(scratch_bytes) : nullptr);
  });
}

void float_matmul(const Kernels& kernels, const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                  const float* x, int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool) {
  cpu::FloatMatmulArgs args;
  args.dtype = w.dtype;
  args.weights = w.data;
  args.rows = w.rows;
  args.cols = w.cols;
  args.n_tokens = n_tokens;
  args.x = x;
  args.y = y;
  args.ldy = ldy;
  args.y_row0 = row_begin;
  const RowChunks chunks = split_rows(row_end - row_begin, kernels.float_row_align, pool.size());
  pool.parallel_for(chunks.n_chunks, [&](int64_t task, int) {
    const int64_t r0 = row_begin + task * chunks.chunk_rows;
    const int64_t r1 = std::min(row_end, r0 + chunks.chunk_rows);
    kernels.float_matmul(args, r0, r1);
  });
}

void matmul_impl(const Kernels& kernels, const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                 const float* x, int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool) {
  check_matrix(w);
  HELIX_CHECK(0 <= row_begin && row_begin < row_end && row_end <= w.rows && ldy >= row_end - row_begin &&
                  n_tokens >= 0,
              "matmul: rows [{}, {}) of {}, ldy {}, {} tokens", row_begin, row_end, w.rows, ldy, n_tokens);
  if (n_tokens == 0) return;
  if (is_quantized(w.dtype)) {
    thread_local QuantizedActivations acts;
    quantize_activations(kernels.isa, x, n_tokens, w.cols, &acts, &pool);
    quant_matmul(kernels, w, row_begin, row_end, acts, y, ldy, pool);
  } else {
    float_matmul(kernels, w, row_begin, row_end, x, n_tokens, y, ldy, pool);
  }
}

}  // namespace

int64_t row_bytes(const WeightMatrix& w) { return dtype_bytes_for(w.dtype, w.cols); }

const void* row_data(const WeightMatrix& w, int64_t row) {
  return static_cast<const uint8_t*>(w.data) + row * row_bytes(w);
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  matmul_impl(cpu::active_kernels(), w, 0, w.rows, x, n_tokens, y, w.rows, pool);
}

void matmul(Isa isa, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  matmul_impl(cpu::kernels_for(isa), w, 0, w.rows, x, n_tokens, y, w.rows, pool);
}

void matmul(const WeightMatrix& w, const QuantizedActivations& x, float* y, ThreadPool& pool) {
  check_matrix(w);
  HELIX_CHECK(is_quantized(w.dtype), "matmul: pre-quantized activations need a quantized matrix, got {}",
              dtype_name(w.dtype));
  if (x.n_tokens == 0) return;
  quant_matmul(cpu::active_kernels(), w, 0, w.rows, x, y, w.rows, pool);
}

void matmul_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
                 int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool) {
  matmul_impl(cpu::active_kernels(), w, row_begin, row_end, x, n_tokens, y, ldy, pool);
}

}  // namespace helix
