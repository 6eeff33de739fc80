// Shared by the speculative decoding tests: stories260K generators with either proposer, the golden ids, and
// draft files written on the fly (a q4_0 copy with noise: same vocabulary, often wrong).
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/batch_generator.h"
#include "engine/speculative/draft_model_proposer.h"
#include "engine/speculative/ngram_proposer.h"
#include "engine/speculative/speculative_generator.h"
#include "model/model_quantizer.h"
#include "model/tokenizer_for_model.h"
#include "test_util.h"

namespace helix::spectest {

inline std::string stories(const std::string& file) { return test::shared_path("models/stories260K/" + file); }

inline const std::vector<int32_t>& golden_ids() {
  static const std::vector<int32_t> ids = [] {
    std::ifstream f(test::shared_path("testdata/stories260K-greedy.json"));
    return nlohmann::json::parse(f)["ids"].get<std::vector<int32_t>>();
  }();
  return ids;
}

inline EngineOptions engine_options(int32_t block_size, int64_t num_blocks = 0) {
  EngineOptions o;
  o.block_size = block_size;
  o.num_blocks = num_blocks > 0 ? num_blocks : 4096 / block_size;
  o.threads = 1;
  o.kv_dtype = DType::F32;
  return o;
}

inline std::unique_ptr<Transformer> load(const std::string& path) {
  auto m = Transformer::load(path);
  EXPECT_TRUE(m) << m.error().message;
  return std::move(*m);
}

// stories260K rewritten as q4_0 with noise of `noise` x each matrix's RMS: same vocabulary, a weaker model.
inline std::string write_weak_draft(const test::TempDir& dir, float noise = 0.5f, DType type = DType::Q4_0) {
  const std::string path = dir.file("weak-draft.gguf");
  auto src = open_model_file(stories("stories260K.gguf"));
  EXPECT_TRUE(src) << src.error().message;
  QuantizeOptions o;
  o.weight_type = type;
  o.noise = noise;
  o.seed = 7;
  auto st = write_quantized_model(*src, nullptr, o, path);
  EXPECT_TRUE(st) << st.error().message;
  return path;
}

inline std::unique_ptr<SpeculativeGenerator> make_spec(const std::string& target, std::unique_ptr<Proposer> proposer,
                                                       int32_t k, const EngineOptions& options) {
  SpeculativeOptions so;
  so.num_spec_tokens = k;
  auto g = SpeculativeGenerator::create(load(target), std::move(proposer), options, so);
  EXPECT_TRUE(g) << g.error().message;
  return std::move(*g);
}

inline std::unique_ptr<SpeculativeGenerator> make_draft_spec(const std::string& target, const std::string& draft,
                                                             int32_t k, const EngineOptions& options) {
  return make_spec(target, std::make_unique<DraftModelProposer>(load(draft)), k, options);
}

inline std::unique_ptr<BatchGenerator> make_plain(const std::string& target, const EngineOptions& options) {
  auto g = BatchGenerator::create(load(target), options);
  EXPECT_TRUE(g) << g.error().message;
  return std::move(*g);
}

inline GenerationRequest request(std::vector<int32_t> prompt, int64_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.max_new_tokens = n;
  return r;
}

}  // namespace helix::spectest
