// A prompt's attention is shared among the threads in runs of consecutive queries (their number follows the
// thread count). The logits must not depend on that split: every row of a 61-token prompt gives the same
// floats with 1, 2 and 3 threads, and the same floats when the prompt arrives in two steps (the second run of
// queries starting at position 20, after the first step filled the cache).
#include <vector>

#include <gtest/gtest.h>

#include "kernels/thread_pool.h"
#include "kv/kv_storage.h"
#include "model/transformer.h"
#include "test_util.h"

namespace helix {
namespace {

std::vector<int32_t> prompt_tokens() {
  std::vector<int32_t> tokens;
  for (int32_t i = 0; i < 61; ++i) tokens.push_back(i == 0 ? 1 : 3 + (i * 37) % 500);  // BOS, then varied ids
  return tokens;
}

// Logits of every prompt row, the prompt fed in steps of the given sizes (all_logits on every step).
std::vector<float> prompt_logits(Transformer& model, const std::vector<int32_t>& tokens,
                                 const std::vector<int64_t>& steps, int threads) {
  ModelShape shape = model.shape();
  shape.kv_dtype = DType::F32;
  auto storage = KvStorage::create(shape, 4, 16);
  EXPECT_TRUE(storage) << storage.error().message;
  std::vector<PagedKv> layers;
  for (int32_t l = 0; l < storage->n_layers(); ++l) layers.push_back(storage->layer(l));
  const std::vector<int32_t> table = {2, 0, 3, 1};  // blocks out of order, as a real table can be
  ThreadPool pool(threads);
  std::vector<float> all, logits;
  int64_t start = 0;
  for (int64_t n : steps) {
    SequenceStep step;
    step.tokens = std::span<const int32_t>(tokens).subspan(static_cast<size_t>(start), static_cast<size_t>(n));
    step.start_pos = start;
    step.block_table = table;
    step.all_logits = true;
    const int64_t rows = model.forward(std::span<const SequenceStep>(&step, 1), layers, pool, logits);
    EXPECT_EQ(rows, n);
    all.insert(all.end(), logits.begin(), logits.end());
    start += n;
  }
  return all;
}

TEST(TransformerPromptAttention, LogitsDoNotDependOnTheSplit) {
  auto model = Transformer::load(test::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_TRUE(model) << model.error().message;
  const std::vector<int32_t> tokens = prompt_tokens();
  const std::vector<float> one_thread = prompt_logits(**model, tokens, {61}, 1);
  ASSERT_EQ(one_thread.size(), static_cast<size_t>(61 * (*model)->shape().vocab_size));
  EXPECT_EQ(prompt_logits(**model, tokens, {61}, 2), one_thread);
  EXPECT_EQ(prompt_logits(**model, tokens, {61}, 3), one_thread);
  EXPECT_EQ(prompt_logits(**model, tokens, {20, 41}, 2), one_thread);
}

}  // namespace
}  // namespace helix
