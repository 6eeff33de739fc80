// Matmul throughput on TinyLlama-1.1B shapes (hidden 2048, ffn 5632, 4 KV heads of 64, vocab 32000),
// judged against the machine's read bandwidth. Threads: HELIX_BENCH_THREADS (default 2).
//
// Counters: GB/s = weight bytes streamed per second (a decode step reads every weight once, so at
// n_tokens=1 this is compared with the ReadBandwidth benchmark); tok/s = tokens of this call per
// second; model_tok/s = the forward-pass token rate if every TinyLlama matrix ran at this GB/s
// (n_tokens * GB/s / TinyLlama matrix bytes). The plain counters use the mean time; best_* use the
// fastest single call, which is what the hardware can do when no other process shares the cores
// (the mean on a busy machine mostly measures the other processes). Weights rotate among enough
// copies to exceed the L3 cache, as in a real forward pass. At n_tokens=1 every iteration also
// streams another cold copy with a plain read loop on the same threads: read_GB/s is its best rate
// and of_read = best_GB/s / read_GB/s, the fraction of the bandwidth actually available at the time
// (which on a shared machine moves by 2x within minutes).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "common/dtype.h"
#include "common/fp16.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/memory_bandwidth.h"
#include "kernels/quant_formats.h"
#include "kernels/quantize.h"
#include "kernels/thread_pool.h"

namespace helix {
namespace {

constexpr int64_t kHidden = 2048, kFfn = 5632, kKv = 256, kVocab = 32000, kLayers = 22;
constexpr int64_t kColdBytes = int64_t{96} << 20;  // 3x the L3 cache

ThreadPool& pool() {
  static ThreadPool instance([] {
    const char* env = std::getenv("HELIX_BENCH_THREADS");
    return env != nullptr ? std::atoi(env) : 2;
  }());
  return instance;
}

// TinyLlama's matrix parameters (22 layers of q, k, v, o, gate, up, down, plus the classifier).
int64_t model_params() { return kLayers * (2 * kHidden * kHidden + 2 * kKv * kHidden + 3 * kFfn * kHidden) + kVocab * kHidden; }

uint64_t next_random(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// Random weights with sane scales (quantized) or values in +-[0.125, 0.25) (float types).
void fill_random(DType dtype, uint8_t* data, int64_t bytes, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i + 8 <= bytes; i += 8) {
    const uint64_t r = next_random(s);
    std::memcpy(data + i, &r, 8);
  }
  const auto set_half = [&](int64_t offset, uint16_t h) { std::memcpy(data + offset, &h, 2); };
  const uint16_t scale = f32_to_fp16(0.003f);
  switch (dtype) {
    case DType::Q8_0: for (int64_t o = 0; o < bytes; o += 34) set_half(o, scale); break;
    case DType::Q4_0: for (int64_t o = 0; o < bytes; o += 18) set_half(o, scale); break;
    case DType::Q4_K:
      for (int64_t o = 0; o < bytes; o += 144) { set_half(o, scale); set_half(o + 2, scale); }
      break;
    case DType::Q6_K: for (int64_t o = 0; o < bytes; o += 210) set_half(o + 208, scale); break;
    case DType::F16:
      for (int64_t o = 0; o < bytes; o += 2) { uint16_t h; std::memcpy(&h, data + o, 2); set_half(o, (h & 0x83ff) | 0x3000); }
      break;
    case DType::BF16:
      for (int64_t o = 0; o < bytes; o += 2) { uint16_t h; std::memcpy(&h, data + o, 2); set_half(o, (h & 0x807f) | 0x3e00); }
      break;
    case DType::F32:
      for (int64_t o = 0; o < bytes; o += 4) {
        uint32_t v; std::memcpy(&v, data + o, 4); v = (v & 0x807fffffu) | 0x3e000000u; std::memcpy(data + o, &v, 4);
      }
      break;
  }
}

struct Buffer {
  std::unique_ptr<uint8_t, decltype(&std::free)> data{nullptr, &std::free};
  explicit Buffer(int64_t bytes) : data(static_cast<uint8_t*>(std::aligned_alloc(64, static_cast<size_t>((bytes + 63) / 64 * 64))), &std::free) {}
};

std::vector<float> random_activations(int64_t n) {
  std::vector<float> x(static_cast<size_t>(n));
  uint64_t s = 12345;
  for (float& v : x) v = static_cast<float>(static_cast<int64_t>(next_random(s) % 2001) - 1000) * 1e-3f;
  return x;
}

void BM_Matmul(benchmark::State& state, DType dtype) {
  const int64_t rows = state.range(0), cols = state.range(1), n_tokens = state.range(2);
  const int64_t matrix_bytes = dtype_bytes_for(dtype, rows * cols);
  const int64_t copies = std::max<int64_t>(2, (kColdBytes + matrix_bytes - 1) / matrix_bytes);
  Buffer weights(matrix_bytes * copies);
  fill_random(dtype, weights.data.get(), matrix_bytes * copies, static_cast<uint64_t>(rows + cols));
  const std::vector<float> x = random_activations(n_tokens * cols);
  std::vector<float> y(static_cast<size_t>(n_tokens * rows));
  const cpu::Kernels& kernels = cpu::active_kernels();
  const int threads = pool().size();
  int64_t i = 0;
  double best = 1e30, best_read = 1e30;
  uint64_t checksum = 0;
  for (auto _ : state) {
    const WeightMatrix w{dtype, weights.data.get() + (i % copies) * matrix_bytes, rows, cols};
    auto start = std::chrono::steady_clock::now();
    matmul(w, x.data(), n_tokens, y.data(), pool());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    benchmark::DoNotOptimize(y.data());
    if (n_tokens == 1) {
      state.PauseTiming();
      const uint8_t* other = weights.data.get() + ((i + copies / 2) % copies) * matrix_bytes;
      start = std::chrono::steady_clock::now();
      pool().parallel_for(threads, [&](int64_t t, int) {
        const int64_t part = matrix_bytes / threads / 64 * 64;
        const int64_t begin = t * part, end = t + 1 == threads ? matrix_bytes : begin + part;
        checksum += kernels.stream_read(other + begin, end - begin);
      });
      best_read = std::min(best_read, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      state.ResumeTiming();
    }
    ++i;
  }
  benchmark::DoNotOptimize(checksum);
  const double calls = static_cast<double>(state.iterations());
  const double model_bytes = static_cast<double>(dtype_bytes_for(dtype, model_params()));
  state.counters["GB/s"] = benchmark::Counter(calls * matrix_bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["best_GB/s"] = matrix_bytes / best / 1e9;
  state.counters["tok/s"] = benchmark::Counter(calls * n_tokens, benchmark::Counter::kIsRate);
  state.counters["best_tok/s"] = n_tokens / best;
  state.counters["model_tok/s"] =
      benchmark::Counter(calls * n_tokens * matrix_bytes / model_bytes, benchmark::Counter::kIsRate);
  if (n_tokens == 1) {
    state.counters["read_GB/s"] = matrix_bytes / best_read / 1e9;
    state.counters["of_read"] = best_read / best;
  }
}

// Every matrix of a TinyLlama forward pass (22 layers + classifier, distinct memory like a real
// model), with q/k/v and gate/up sharing one activation quantization and one dispatch, as the forward
// pass runs them. No attention or small ops: this is the matmul share of a forward pass. `prepacked`:
// the matrices re-laid out for the active ISA as a loaded model has them (where it has a layout).
void BM_TinyLlamaMatmuls(benchmark::State& state, DType dtype, bool prepacked) {
  const int64_t n = state.range(0);
  struct Layer { WeightMatrix q, k, v, o, gate, up, down; };
  const int64_t total = dtype_bytes_for(dtype, model_params());
  Buffer weights(total);
  fill_random(dtype, weights.data.get(), total, 7);
  uint8_t* cursor = weights.data.get();
  auto take = [&](int64_t rows, int64_t cols) {
    WeightMatrix w{dtype, cursor, rows, cols};
    cursor += dtype_bytes_for(dtype, rows * cols);
    return w;
  };
  std::vector<Layer> layers;
  for (int64_t l = 0; l < kLayers; ++l)
    layers.push_back({take(kHidden, kHidden), take(kKv, kHidden), take(kKv, kHidden), take(kHidden, kHidden),
                      take(kFfn, kHidden), take(kFfn, kHidden), take(kHidden, kFfn)});
  WeightMatrix classifier = take(kVocab, kHidden);
  std::vector<WeightMatrix*> all{&classifier};
  for (Layer& l : layers)
    for (WeightMatrix* w : {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down}) all.push_back(w);
  int64_t packed_total = 0;
  for (const WeightMatrix* w : all) packed_total += prepacked ? (prepacked_bytes(*w, active_isa()) + 63) / 64 * 64 : 0;
  if (prepacked && packed_total == 0) {
    state.SkipWithError("no prepacked layout for this type on this ISA");
    return;
  }
  Buffer packed(std::max<int64_t>(packed_total, 64));
  uint8_t* packed_cursor = packed.data.get();
  for (WeightMatrix* w : all) {
    if (!prepacked) break;
    *w = prepack(*w, active_isa(), packed_cursor, pool());
    packed_cursor += (prepacked_bytes(*w, active_isa()) + 63) / 64 * 64;
  }
  const std::vector<float> x = random_activations(n * kFfn);
  std::vector<float> q(n * kHidden), k(n * kKv), v(n * kKv), o(n * kHidden), gate(n * kFfn), up(n * kFfn),
      down(n * kHidden), logits(n * kVocab);
  double best = 1e30;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (const Layer& layer : layers) {
      const MatmulOutput qkv[] = {{&layer.q, q.data()}, {&layer.k, k.data()}, {&layer.v, v.data()}};
      matmul_shared_input(qkv, x.data(), n, pool());
      matmul(layer.o, x.data(), n, o.data(), pool());
      const MatmulOutput gate_up[] = {{&layer.gate, gate.data()}, {&layer.up, up.data()}};
      matmul_shared_input(gate_up, x.data(), n, pool());
      matmul(layer.down, x.data(), n, down.data(), pool());
    }
    matmul(classifier, x.data(), n, logits.data(), pool());
    benchmark::DoNotOptimize(logits.data());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const double passes = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(passes * total / 1e9, benchmark::Counter::kIsRate);
  state.counters["best_GB/s"] = total / best / 1e9;
  state.counters["tok/s"] = benchmark::Counter(passes * n, benchmark::Counter::kIsRate);
  state.counters["best_tok/s"] = n / best;
}

void BM_ReadBandwidth(benchmark::State& state) {
  double gbps = 0.0;
  for (auto _ : state) gbps = measure_read_bandwidth_gbps(pool(), int64_t{1} << 30);
  state.counters["read_GB/s"] = gbps;
  state.counters["threads"] = pool().size();
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "n_tokens"});
  for (const auto& shape : std::vector<std::pair<int64_t, int64_t>>{
           {kHidden, kHidden}, {kKv, kHidden}, {kFfn, kHidden}, {kHidden, kFfn}, {kVocab, kHidden}})
    for (int64_t n : {1, 16, 128}) b->Args({shape.first, shape.second, n});
  b->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.3);
}

BENCHMARK(BM_ReadBandwidth)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Matmul, q8_0, DType::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q4_0, DType::Q4_0)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, f16, DType::F16)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q4_k, DType::Q4_K)->Apply(shapes);
BENCHMARK_CAPTURE(BM_Matmul, q6_k, DType::Q6_K)->Args({kVocab, kHidden, 1})->Args({kVocab, kHidden, 16})
    ->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.3);
BENCHMARK_CAPTURE(BM_TinyLlamaMatmuls, q8_0, DType::Q8_0, false)->ArgName("n_tokens")->Arg(1)->Arg(16)->Arg(128)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_TinyLlamaMatmuls, q8_0_prepacked, DType::Q8_0, true)->ArgName("n_tokens")->Arg(1)->Arg(16)
    ->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_TinyLlamaMatmuls, q4_0, DType::Q4_0, false)->ArgName("n_tokens")->Arg(1)->Arg(16)->Arg(128)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_TinyLlamaMatmuls, q4_0_prepacked, DType::Q4_0, true)->ArgName("n_tokens")->Arg(1)->Arg(16)
    ->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK_CAPTURE(BM_TinyLlamaMatmuls, q4_k, DType::Q4_K, false)->ArgName("n_tokens")->Arg(1)->Arg(16)->Arg(128)
    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace helix
