// Greedy speculative decoding must give exactly plain greedy's ids: the stories260K golden run, for both
// proposers, K = 1..8, block sizes 1, 16 and 64, alone and batched with other sequences.
#include <tuple>

#include <fmt/format.h>

#include "speculative_test_util.h"

namespace helix {
namespace {

using namespace spectest;

std::vector<int32_t> run_one(SpeculativeGenerator& g, const GenerationRequest& r) {
  auto out = g.generate(std::span<const GenerationRequest>(&r, 1));
  EXPECT_TRUE(out) << out.error().message;
  return out ? (*out)[0].tokens : std::vector<int32_t>{};
}

class SpecGreedyGolden : public ::testing::TestWithParam<std::tuple<int32_t, int32_t>> {};

// Same weights (llama2.c f32 file drafting for the GGUF f32 file): every draft is accepted.
TEST_P(SpecGreedyGolden, SameWeightsDraftGivesGoldenIds) {
  const auto [k, block_size] = GetParam();
  auto g = make_draft_spec(stories("stories260K.gguf"), stories("stories260K.bin"), k, engine_options(block_size));
  EXPECT_EQ(run_one(*g, request({1}, 200)), golden_ids());
  const SpeculativeStats& st = g->last_stats();
  EXPECT_EQ(st.accepted, st.proposed) << "the same weights should agree on every argmax";
  EXPECT_GT(st.proposed, 0);
  EXPECT_EQ(g->kv().num_used_blocks(), 0);
  EXPECT_EQ(g->proposer().kv()->num_used_blocks(), 0);
}

TEST_P(SpecGreedyGolden, NgramGivesGoldenIds) {
  const auto [k, block_size] = GetParam();
  auto g = make_spec(stories("stories260K.bin"), std::make_unique<NgramProposer>(), k, engine_options(block_size));
  EXPECT_EQ(run_one(*g, request({1}, 200)), golden_ids());
  const SpeculativeStats& st = g->last_stats();
  EXPECT_GT(st.proposed, 0);
  EXPECT_LT(st.accepted, st.proposed);  // prompt lookup guesses wrong too: rejections were exercised
  EXPECT_EQ(g->kv().num_used_blocks(), 0);
}

TEST_P(SpecGreedyGolden, WeakDraftGivesGoldenIds) {
  const auto [k, block_size] = GetParam();
  test::TempDir dir;
  auto g = make_draft_spec(stories("stories260K.bin"), write_weak_draft(dir), k, engine_options(block_size));
  EXPECT_EQ(run_one(*g, request({1}, 200)), golden_ids());
  const SpeculativeStats& st = g->last_stats();
  EXPECT_GT(st.accepted, 0);
  EXPECT_LT(st.accepted, st.proposed);  // the weak draft is rejected often
  EXPECT_EQ(g->kv().num_used_blocks(), 0);
  EXPECT_EQ(g->proposer().kv()->num_used_blocks(), 0);
}

INSTANTIATE_TEST_SUITE_P(KAndBlockSize, SpecGreedyGolden,
                         ::testing::Combine(::testing::Range(1, 9), ::testing::Values(1, 16, 64)),
                         [](const auto& info) {
                           return fmt::format("K{}_bs{}", std::get<0>(info.param), std::get<1>(info.param));
                         });

// Several sequences of different lengths verified in the same forwards: each gets plain greedy's ids.
TEST(SpecGreedyBatch, BatchedVerificationMatchesPlain) {
  test::TempDir dir;
  const std::string weak = write_weak_draft(dir);
  std::vector<GenerationRequest> reqs = {request({1}, 200), request({1, 403, 407}, 60), request({1, 261}, 1),
                                         request({1, 403, 407, 261, 350, 41, 263}, 90), request({1}, 7)};
  for (int32_t bs : {1, 16}) {
    auto plain = make_plain(stories("stories260K.bin"), engine_options(bs));
    auto expected = plain->generate(reqs);
    ASSERT_TRUE(expected) << expected.error().message;
    EXPECT_EQ((*expected)[0].tokens, golden_ids());
    for (const std::string proposer : {"ngram", "weak", "same"}) {
      std::unique_ptr<SpeculativeGenerator> g;
      if (proposer == "ngram") g = make_spec(stories("stories260K.bin"), std::make_unique<NgramProposer>(), 5, engine_options(bs));
      else g = make_draft_spec(stories("stories260K.bin"), proposer == "weak" ? weak : stories("stories260K.gguf"), 5, engine_options(bs));
      std::vector<std::pair<size_t, int32_t>> streamed;
      auto out = g->generate(reqs, [&](size_t r, int32_t t) { streamed.emplace_back(r, t); });
      ASSERT_TRUE(out) << out.error().message;
      size_t total = 0;
      for (size_t i = 0; i < reqs.size(); ++i) {
        EXPECT_EQ((*out)[i].tokens, (*expected)[i].tokens) << proposer << " bs " << bs << " request " << i;
        EXPECT_EQ((*out)[i].tokens.size(), static_cast<size_t>(reqs[i].max_new_tokens));
        EXPECT_EQ(g->last_stats().timeline[i].size(), (*out)[i].tokens.size());
        total += (*out)[i].tokens.size();
      }
      EXPECT_EQ(streamed.size(), total);  // every token streamed once
      const SpeculativeStats& st = g->last_stats();
      int64_t verifications = 0, accepted = 0;
      for (size_t n = 0; n < st.accepted_histogram.size(); ++n) {
        verifications += st.accepted_histogram[n];
        accepted += static_cast<int64_t>(n) * st.accepted_histogram[n];
      }
      EXPECT_EQ(verifications, st.verifications);
      EXPECT_EQ(accepted, st.accepted);
      EXPECT_EQ(g->last_stats().generated_tokens, static_cast<int64_t>(total));
      // Fewer target forwards than the plain run (prompt lookup and drafts both accept some tokens), and the
      // plain count the stats estimate is the one the plain generator really took.
      EXPECT_LT(g->last_stats().target_forwards, plain->last_stats().steps) << proposer;
      EXPECT_EQ(g->last_stats().plain_forwards, plain->last_stats().steps) << proposer;
      EXPECT_EQ(g->kv().num_used_blocks(), 0);
    }
  }
}

// stories260K.bin was trained with 512 positions, its GGUF says 2048: past 512 the draft proposes nothing and
// the target decodes alone, still exactly.
TEST(SpecGreedyBatch, DraftWithAShorterContext) {
  const GenerationRequest r = request({1}, 600);
  auto plain = make_plain(stories("stories260K.gguf"), engine_options(16));
  auto expected = plain->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(expected);
  auto g = make_draft_spec(stories("stories260K.gguf"), stories("stories260K.bin"), 4, engine_options(16));
  EXPECT_EQ(run_one(*g, r), (*expected)[0].tokens);
  // Positions 513.. (about 88 steps) had no drafts: the draft writes positions up to len + k - 2 < 512.
  EXPECT_GT(g->last_stats().undrafted_steps, 80);
  EXPECT_EQ(g->last_stats().accepted, g->last_stats().proposed);
}

// A stop token ends a sequence even when it arrives as an accepted draft in the middle of a step.
TEST(SpecGreedyBatch, StopTokenInsideAcceptedDrafts) {
  auto g = make_draft_spec(stories("stories260K.gguf"), stories("stories260K.bin"), 8, engine_options(16));
  GenerationRequest r = request({1}, 50);
  r.stop_ids = {golden_ids()[5]};
  auto out = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(out);
  // The first occurrence of the stop id in the golden run ends it, kept in the output.
  const auto& ids = golden_ids();
  const size_t end = static_cast<size_t>(std::find(ids.begin(), ids.end(), r.stop_ids[0]) - ids.begin()) + 1;
  EXPECT_EQ((*out)[0].tokens, std::vector<int32_t>(ids.begin(), ids.begin() + end));
  EXPECT_EQ((*out)[0].finish, FinishReason::Stop);
  EXPECT_EQ(g->kv().num_used_blocks(), 0);
  EXPECT_EQ(g->proposer().kv()->num_used_blocks(), 0);
}

}  // namespace
}  // namespace helix
