// Tokenizer speed: a ~4k-token prompt through SentencePiece (Llama 2 vocab) and byte-level BPE
// (SmolLM2), plus single-word worst cases (one long run of the same char) that a quadratic merge loop
// would make slow. Run from the repository root (data from ../shared, or $HELIX_SHARED_DIR).
#include <cstdlib>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "model/tokenizer.h"
#include "model/tokenizer_loaders.h"

namespace helix {
namespace {

std::string shared_path(const std::string& relative) {
  const char* env = std::getenv("HELIX_SHARED_DIR");
  return std::string(env != nullptr ? env : "../shared") + "/" + relative;
}

const Tokenizer* spm() {
  static const auto tok = [] {
    auto r = load_llama2c_tokenizer(shared_path("models/tokenizers/llama2-32k/tokenizer.bin"));
    return r ? std::make_unique<Tokenizer>(std::move(r).value()) : nullptr;
  }();
  return tok.get();
}

const Tokenizer* bpe() {
  static const auto tok = [] {
    auto r = load_hf_tokenizer(shared_path("models/tokenizers/smollm2/tokenizer.json"));
    return r ? std::make_unique<Tokenizer>(std::move(r).value()) : nullptr;
  }();
  return tok.get();
}

// English prose with some code, numbers and non-ASCII, repeated to the wanted size.
std::string prompt_text(size_t bytes) {
  const std::string paragraph =
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
      "One day, she saw a big, red ball: it cost $12.50 (about 11,40 \xE2\x82\xAC) and weighed 0.25 kg.\n"
      "def add(a, b):\n\treturn a + b  # \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80\n"
      "\"Lily, let's go to the caf\xC3\xA9!\" said her mom. They didn't know what to do.\n";
  std::string text;
  while (text.size() < bytes) text += paragraph;
  return text;
}

void encode_bench(benchmark::State& state, const Tokenizer* tok, const std::string& text) {
  if (tok == nullptr) {
    state.SkipWithError("tokenizer files not found (run from the repository root or set HELIX_SHARED_DIR)");
    return;
  }
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok->encode(text, true);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens) * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(text.size()) * state.iterations());
}

// ~11 KiB of this text is about 4k tokens with either vocabulary.
void BM_EncodeSpmPrompt(benchmark::State& state) { encode_bench(state, spm(), prompt_text(11 * 1024)); }
void BM_EncodeBpePrompt(benchmark::State& state) { encode_bench(state, bpe(), prompt_text(11 * 1024)); }
// One 16 KiB word: every merge candidate lives in a single queue.
void BM_EncodeSpmOneRun(benchmark::State& state) { encode_bench(state, spm(), std::string(16 * 1024, 'a')); }
void BM_EncodeBpeOneRun(benchmark::State& state) { encode_bench(state, bpe(), std::string(16 * 1024, 'a')); }

void BM_DecodeSpmPrompt(benchmark::State& state) {
  const Tokenizer* tok = spm();
  if (tok == nullptr) {
    state.SkipWithError("tokenizer files not found");
    return;
  }
  const auto ids = tok->encode(prompt_text(11 * 1024), true);
  for (auto _ : state) {
    TokenStreamDecoder decoder(*tok);
    size_t bytes = 0;
    for (const int32_t id : ids) bytes += decoder.push(id).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["tokens"] = static_cast<double>(ids.size());
}

BENCHMARK(BM_EncodeSpmPrompt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeBpePrompt)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeSpmOneRun)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeBpeOneRun)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeSpmPrompt)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace helix
