#include "engine/batch_generator.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace helix {
namespace {

std::unique_ptr<BatchGenerator> stories(int64_t num_blocks, int32_t block_size = 16, int64_t max_seq_len = 0) {
  auto model = Transformer::load(test::shared_path("models/stories260K/stories260K.bin"));
  EXPECT_TRUE(model) << model.error().message;
  EngineOptions o;
  o.num_blocks = num_blocks;
  o.block_size = block_size;
  o.threads = 1;
  o.max_seq_len = max_seq_len;
  auto g = BatchGenerator::create(std::move(*model), o);
  EXPECT_TRUE(g) << g.error().message;
  return std::move(*g);
}

TEST(BatchGenerator, BlocksTakenOnlyWhenTheLastIsFull) {
  auto g = stories(64, 16);
  std::vector<int32_t> used_per_step;
  g->set_step_observer([&](const KvCacheManager& kv) { used_per_step.push_back(kv.num_used_blocks()); });
  GenerationRequest r;
  r.prompt = {1, 403, 407};  // 3 prompt tokens
  r.max_new_tokens = 30;     // positions 0..31 written: 3 + 29 fed back = 32 tokens = 2 blocks
  ASSERT_TRUE(g->generate(std::span<const GenerationRequest>(&r, 1)));
  ASSERT_EQ(used_per_step.size(), 30u);  // one prefill step, 29 decode steps
  // Step s holds 3 + s tokens: one block through 16 tokens (steps 0..13), two after.
  for (size_t s = 0; s < used_per_step.size(); ++s)
    EXPECT_EQ(used_per_step[s], (3 + static_cast<int32_t>(s) + 15) / 16) << "step " << s;
  EXPECT_EQ(g->kv().num_used_blocks(), 0);  // freed when the sequence finished
}

TEST(BatchGenerator, StopTokenEndsASequence) {
  auto g = stories(64);
  GenerationRequest r;
  r.prompt = {1};
  r.max_new_tokens = 50;
  r.stop_ids = {261};  // " a" is the 3rd golden token (403, 407, 261)
  auto out = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].tokens, (std::vector<int32_t>{403, 407, 261}));
  EXPECT_EQ((*out)[0].finish, FinishReason::Stop);
}

TEST(BatchGenerator, RefusesWhatCannotFit) {
  auto g = stories(4, 16, 100);  // 4 blocks of 16 = 64 slots; sequences up to 100 tokens
  GenerationRequest r;
  r.prompt = {1};
  r.max_new_tokens = 80;  // 80 slots = 5 blocks > 4
  auto out = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("need up to 5 blocks"), std::string::npos) << out.error().message;
  r.max_new_tokens = 101;  // over max_seq_len
  out = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("exceeds max_seq_len 100"), std::string::npos) << out.error().message;
  r.prompt = {1, 512};  // outside the 512-token vocabulary
  r.max_new_tokens = 2;
  out = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("outside the vocabulary"), std::string::npos);
  EXPECT_EQ(g->kv().num_used_blocks(), 0);  // nothing was taken by refused requests
}

TEST(BatchGenerator, SeededSamplingIsReproducible) {
  auto g = stories(64);
  GenerationRequest r;
  r.prompt = {1};
  r.max_new_tokens = 40;
  r.sampling.temperature = 0.9f;
  r.sampling.top_p = 0.9f;
  r.sampling.seed = 1234;
  auto a = g->generate(std::span<const GenerationRequest>(&r, 1));
  auto b = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)[0].tokens, (*b)[0].tokens);
  r.sampling.seed = 99;
  auto c = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(c);
  EXPECT_NE((*a)[0].tokens, (*c)[0].tokens);
}

TEST(BatchGenerator, OptionErrorsNameTheFlag) {
  EngineOptions o;
  o.block_size = 0;
  EXPECT_EQ(o.validate().error().message.rfind("--block-size:", 0), 0u);
  o = {};
  o.kv_dtype = DType::Q4_0;
  EXPECT_EQ(o.validate().error().message.rfind("--kv-dtype:", 0), 0u);
}

}  // namespace
}  // namespace helix
