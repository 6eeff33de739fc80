// Prepacked weights: a model loaded with its q8_0 / q4_0 matrices re-laid out for the AVX-512 kernels
// generates exactly what the same file read in place does (batched prompts and decode steps), and the copy
// takes the file's bytes.
#include "model/prepacked_weights.h"

#include <gtest/gtest.h>

#include "engine/batch_generator.h"
#include "kernels/matmul.h"
#include "model/model_generator.h"
#include "model/tokenizer_for_model.h"
#include "model/transformer.h"
#include "test_util.h"

namespace helix {
namespace {

// Widths in whole q8_0 / q4_0 blocks; 400 vocabulary rows = 25 panels of 16; ffn 224 = 7 blocks, a partial chunk.
ModelShape small_shape() {
  ModelShape s = *find_preset("stories260k");
  s.name = "small";
  s.ffn_dim = 224;
  s.vocab_size = 400;
  return s;
}

std::vector<std::vector<int32_t>> generate(std::unique_ptr<Transformer> model, const Tokenizer& tok) {
  EngineOptions eo;
  eo.num_blocks = 32;
  auto g = BatchGenerator::create(std::move(model), eo);
  EXPECT_TRUE(g);
  std::vector<GenerationRequest> requests(3);
  const char* prompts[] = {"once upon a time", "the cat", "a long long long prompt that spans several tokens"};
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].prompt = tok.encode(prompts[i], true);
    requests[i].max_new_tokens = 24 + 8 * static_cast<int64_t>(i);
  }
  auto out = (*g)->generate(requests);
  EXPECT_TRUE(out) << out.error().message;
  std::vector<std::vector<int32_t>> ids;
  for (const GenerationResult& r : *out) ids.push_back(r.tokens);
  return ids;
}

TEST(PrepackedWeights, SameTokensAsTheFileLayout) {
  if (!isa_supported(Isa::Avx512) || active_isa() != Isa::Avx512) GTEST_SKIP() << "the AVX-512 kernels are not active";
  test::TempDir dir;
  for (DType type : {DType::Q8_0, DType::Q4_0}) {
    const std::string path = dir.file(std::string(dtype_name(type)) + ".gguf");
    GeneratedModelOptions o;
    o.weight_type = type;
    o.seed = 11;
    ASSERT_TRUE(write_random_model(small_shape(), o, path));
    auto in_place = Transformer::load(path, LoadOptions{.prepack = false});
    auto packed = Transformer::load(path, LoadOptions{.prepack = true, .threads = 2});
    ASSERT_TRUE(in_place && packed);
    EXPECT_EQ((*in_place)->prepacked().matrices(), 0);
    // 5 layers x 7 matrices + the classifier (tied to the embedding, which stays as stored).
    EXPECT_EQ((*packed)->prepacked().matrices(), 5 * 7 + 1);
    const Weights& w = (*packed)->weights();
    EXPECT_NE(w.layers[4].w_down.prepacked, nullptr);
    EXPECT_EQ(w.token_embedding.prepacked, nullptr);
    // Every matrix but w_down (224 columns: a partial chunk pads its scales by 32 bytes per panel) and the
    // classifier keeps the file's size.
    int64_t expected = 0;
    for (const LayerWeights& l : w.layers) {
      for (const WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down})
        expected += (prepacked_bytes(*m, Isa::Avx512) + 63) / 64 * 64;
    }
    expected += (prepacked_bytes(w.classifier, Isa::Avx512) + 63) / 64 * 64;
    EXPECT_EQ((*packed)->prepacked().bytes(), expected);
    EXPECT_EQ(prepacked_bytes(w.layers[0].wq, Isa::Avx512), row_bytes(w.layers[0].wq) * w.layers[0].wq.rows);

    auto tok = tokenizer_for_model((*packed)->file());
    ASSERT_TRUE(tok);
    const auto want = generate(std::move(*in_place), *tok);
    const auto got = generate(std::move(*packed), *tok);
    EXPECT_EQ(got, want) << dtype_name(type);
    EXPECT_EQ(got[2].size(), 40u);
  }
}

// The memory helix bench reads after each decode step to compare against: what the kernels read, matrix by matrix
// in forward order, then one embedding row. In place it is the file's bytes, exactly bytes_read_per_token.
TEST(PrepackedWeights, TokenReadSpansAreWhatTheKernelsRead) {
  test::TempDir dir;
  const std::string path = dir.file("q4_0.gguf");
  GeneratedModelOptions o;
  o.weight_type = DType::Q4_0;
  o.seed = 12;
  ASSERT_TRUE(write_random_model(small_shape(), o, path));
  const bool packs = isa_supported(Isa::Avx512) && active_isa() == Isa::Avx512;
  for (const bool prepack : {false, true}) {
    auto model = Transformer::load(path, LoadOptions{.prepack = prepack, .threads = 2});
    ASSERT_TRUE(model);
    const Weights& w = (*model)->weights();
    const auto spans = w.token_read_spans();
    ASSERT_EQ(spans.size(), 5u * 7 + 2);
    const bool packed = prepack && packs;
    const auto expect_matrix = [&](size_t i, const WeightMatrix& m) {
      EXPECT_EQ(spans[i].data(), static_cast<const std::byte*>(packed ? m.prepacked : m.data)) << i;
      EXPECT_EQ(static_cast<int64_t>(spans[i].size()),
                packed ? prepacked_bytes(m, Isa::Avx512) : row_bytes(m) * m.rows) << i;
    };
    expect_matrix(0, w.layers[0].wq);
    expect_matrix(6, w.layers[0].w_down);
    expect_matrix(7 * 4 + 3, w.layers[4].wo);
    expect_matrix(35, w.classifier);
    EXPECT_EQ(spans[36].data(), static_cast<const std::byte*>(w.token_embedding.data));
    EXPECT_EQ(static_cast<int64_t>(spans[36].size()), row_bytes(w.token_embedding));
    int64_t total = 0;
    for (const auto& s : spans) total += static_cast<int64_t>(s.size());
    // Prepacked, w_down's 224 columns pad each panel's last chunk of scales by 32 bytes (see above).
    const int64_t down_padding = packed ? 5 * (small_shape().hidden_dim / 16) * 32 : 0;
    EXPECT_EQ(total, w.bytes_read_per_token() + down_padding) << "prepack " << prepack;
  }
}

}  // namespace
}  // namespace helix
