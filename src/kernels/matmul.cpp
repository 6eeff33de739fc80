#include "kernels/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "common/result.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/panel_scheduler.h"
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

// Runs fn(call, row_begin, row_end, reach_end) over the rows [row_begins[i], row_ends[i]) of every call, shared
// among the pool's threads in one dispatch through a PanelScheduler: each thread reads one sequential stream of
// its home rows (units of `align` rows), the tail is balanced by stealing, and threads move on to the next
// call's rows instead of waiting at every matrix's end. reach_end: rows of the same call this thread will most
// likely take next (the kernel may prefetch them).
template <typename Fn>
void parallel_rows(std::span<const int64_t> row_begins, std::span<const int64_t> row_ends, int64_t align,
                   ThreadPool& pool, Fn&& fn) {
  thread_local std::vector<int64_t> caller_panels;
  thread_local PanelScheduler caller_scheduler;
  std::vector<int64_t>& panels = caller_panels;  // a lambda names a thread_local directly: workers need a reference
  PanelScheduler& scheduler = caller_scheduler;
  panels.clear();
  for (size_t i = 0; i < row_begins.size(); ++i) panels.push_back((row_ends[i] - row_begins[i] + align - 1) / align);
  scheduler.reset(panels, pool.size());
  auto run_piece = [&](const PanelScheduler::Piece& piece) {
    const int64_t begin = row_begins[piece.call], end = row_ends[piece.call];
    fn(piece.call, begin + piece.begin * align, std::min(end, begin + piece.end * align),
       std::min(end, begin + piece.reach * align));
  };
  pool.parallel_for(scheduler.homes(), [&](int64_t home, int) {
    PanelScheduler::Piece piece;
    while (scheduler.take_own(static_cast<int>(home), &piece)) run_piece(piece);
    while (scheduler.steal(&piece)) run_piece(piece);
  });
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

// One matrix's part of a quantized call: its arguments and the activation-side buffers they point into.
struct QuantCall {
  cpu::QuantMatmulArgs args;
  SideInfo side;
  std::vector<uint8_t> image;
  std::vector<cpu::ActRecord> records;
  int64_t scratch_bytes = 0;
};

// The ActRecord layout of QuantMatmulArgs::act_records (32-value sub-blocks).
void fill_act_records(const QuantizedActivations& a, const SideInfo& side, std::vector<cpu::ActRecord>* records) {
  const int64_t n_sub = a.cols / 32;
  records->resize(static_cast<size_t>(a.n_tokens * n_sub));
  for (int64_t t0 = 0; t0 < a.n_tokens; t0 += cpu::kActTileTokens) {
    const int64_t tile = std::min(cpu::kActTileTokens, a.n_tokens - t0);
    cpu::ActRecord* out = records->data() + t0 * n_sub;
    for (int64_t j = 0; j < n_sub; ++j) {
      for (int64_t u = 0; u < tile; ++u) {
        const int64_t t = t0 + u;
        cpu::ActRecord& r = out[j * tile + u];
        std::memcpy(r.qs, a.qs.data() + t * a.cols + 32 * j, sizeof r.qs);
        r.bias = side.bias[static_cast<size_t>(t * n_sub + j)];
        r.scale = side.scale[static_cast<size_t>(t * n_sub + j)];
      }
    }
  }
}

// `shared`: an earlier call of the same dispatch over the same activations; its activation-side buffers serve
// this call too when the types match (q, k and v, or gate and up, share one set instead of building three).
void prepare_quant_call(const Kernels& kernels, const WeightMatrix& w, int64_t row_begin,
                        const QuantizedActivations& a, float* y, int64_t ldy, QuantCall* call,
                        const QuantCall* shared = nullptr) {
  HELIX_CHECK(a.cols == w.cols, "matmul: activations have {} columns, the {} matrix {}", a.cols,
              dtype_name(w.dtype), w.cols);
  if (shared != nullptr && shared->args.dtype != w.dtype) shared = nullptr;
  if (shared == nullptr) fill_side_info(kernels, w.dtype, a, &call->side);
  const SideInfo& side = shared != nullptr ? shared->side : call->side;
  cpu::QuantMatmulArgs& args = call->args;
  args = cpu::QuantMatmulArgs{};
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
  if (w.prepacked != nullptr && w.prepacked_isa == kernels.isa && row_begin % kernels.quant_row_align == 0) {
    args.prepacked = static_cast<const uint8_t*>(w.prepacked);
    if (shared != nullptr && shared->args.act_records != nullptr) {
      args.act_records = shared->args.act_records;
    } else {
      fill_act_records(a, side, &call->records);
      args.act_records = call->records.data();
    }
  }
  const int64_t image_bytes =
      args.prepacked != nullptr ? 0 : kernels.act_image_bytes(w.dtype, w.cols, a.n_tokens);
  if (image_bytes > 0) {
    if (shared != nullptr && shared->args.act_image != nullptr) {
      args.act_image = shared->args.act_image;
    } else {
      call->image.resize(static_cast<size_t>(image_bytes * a.n_tokens));
      kernels.build_act_image(w.dtype, a.qs.data(), w.cols, a.n_tokens, call->image.data());
      args.act_image = call->image.data();
    }
    args.image_stride = image_bytes;
  }
  call->scratch_bytes = kernels.quant_scratch_bytes(w.dtype, w.cols, a.n_tokens);
}

// Runs the rows of every call in one parallel dispatch (parallel_rows).
void run_quant_calls(const Kernels& kernels, std::span<QuantCall> calls, std::span<const int64_t> row_begins,
                     std::span<const int64_t> row_ends, ThreadPool& pool) {
  parallel_rows(row_begins, row_ends, kernels.quant_piece_rows, pool,
                [&](int c, int64_t begin, int64_t end, int64_t reach_end) {
                  const QuantCall& call = calls[static_cast<size_t>(c)];
                  kernels.quant_matmul(call.args, begin, end, reach_end,
                                       call.scratch_bytes > 0 ? thread_scratch(call.scratch_bytes) : nullptr);
                });
}

void quant_matmul(const Kernels& kernels, const WeightMatrix& w, int64_t row_begin, int64_t row_end,
                  const QuantizedActivations& a, float* y, int64_t ldy, ThreadPool& pool) {
  thread_local QuantCall call;
  prepare_quant_call(kernels, w, row_begin, a, y, ldy, &call);
  run_quant_calls(kernels, std::span<QuantCall>(&call, 1), std::span<const int64_t>(&row_begin, 1),
                  std::span<const int64_t>(&row_end, 1), pool);
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
  parallel_rows(std::span<const int64_t>(&row_begin, 1), std::span<const int64_t>(&row_end, 1), kernels.float_row_align,
                pool, [&](int, int64_t begin, int64_t end, int64_t) { kernels.float_matmul(args, begin, end); });
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

int64_t prepacked_bytes(const WeightMatrix& w, Isa isa) {
  if (!is_quantized(w.dtype) || !isa_supported(isa)) return 0;
  return cpu::kernels_for(isa).prepacked_bytes(w.dtype, w.rows, w.cols);
}

WeightMatrix prepack(const WeightMatrix& w, Isa isa, void* dst, ThreadPool& pool) {
  check_matrix(w);
  const int64_t bytes = prepacked_bytes(w, isa);
  HELIX_CHECK(bytes > 0 && dst != nullptr && reinterpret_cast<uintptr_t>(dst) % 64 == 0,
              "prepack: {} matrix [{} x {}] has no {} layout, or dst is not 64-byte aligned", dtype_name(w.dtype),
              w.rows, w.cols, isa_name(isa));
  const Kernels& kernels = cpu::kernels_for(isa);
  const int64_t first = 0;
  parallel_rows(std::span<const int64_t>(&first, 1), std::span<const int64_t>(&w.rows, 1), kernels.quant_row_align,
                pool, [&](int, int64_t begin, int64_t end, int64_t) {
                  kernels.prepack(w.dtype, static_cast<const uint8_t*>(w.data), w.rows, w.cols, begin, end,
                                  static_cast<uint8_t*>(dst));
                });
  WeightMatrix out = w;
  out.prepacked = dst;
  out.prepacked_isa = isa;
  return out;
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

void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens, ThreadPool& pool) {
  if (n_tokens == 0 || outputs.empty()) return;
  const Kernels& kernels = cpu::active_kernels();
  bool grouped = true;
  for (const MatmulOutput& o : outputs) {
    check_matrix(*o.w);
    grouped = grouped && is_quantized(o.w->dtype) && o.w->cols == outputs[0].w->cols;
  }
  if (!grouped) {
    for (const MatmulOutput& o : outputs) matmul(*o.w, x, n_tokens, o.y, pool);
    return;
  }
  thread_local QuantizedActivations acts;
  quantize_activations(kernels.isa, x, n_tokens, outputs[0].w->cols, &acts, &pool);
  thread_local std::vector<QuantCall> calls;
  thread_local std::vector<int64_t> begins, ends;
  calls.resize(outputs.size());
  begins.assign(outputs.size(), 0);
  ends.clear();
  for (size_t i = 0; i < outputs.size(); ++i) {
    prepare_quant_call(kernels, *outputs[i].w, 0, acts, outputs[i].y, outputs[i].w->rows, &calls[i],
                       i > 0 ? &calls[0] : nullptr);
    ends.push_back(outputs[i].w->rows);
  }
  run_quant_calls(kernels, std::span<QuantCall>(calls.data(), outputs.size()), begins, ends, pool);
}

void matmul_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const float* x,
                 int64_t n_tokens, float* y, int64_t ldy, ThreadPool& pool) {
  matmul_impl(cpu::active_kernels(), w, row_begin, row_end, x, n_tokens, y, ldy, pool);
}

}  // namespace helix
