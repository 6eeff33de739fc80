// verify_drafts on hand-made logits rows: which drafts are kept and which token the target adds.
#include "engine/speculative/draft_verifier.h"

#include <gtest/gtest.h>

namespace helix {
namespace {

using Ids = std::vector<int32_t>;

// One row per entry of `argmaxes`, vocab 4: 1.0 at the argmax, 0 elsewhere.
std::vector<float> rows_with_argmax(const Ids& argmaxes) {
  std::vector<float> rows(argmaxes.size() * 4, 0.0f);
  for (size_t i = 0; i < argmaxes.size(); ++i) rows[i * 4 + argmaxes[i]] = 1.0f;
  return rows;
}

VerifiedTokens greedy(const Ids& argmaxes, const Ids& drafts) {
  std::vector<float> rows = rows_with_argmax(argmaxes);
  Sampler sampler(SamplingParams{});
  Proposal p;
  p.tokens = drafts;
  const Ids context = {1};
  return verify_drafts(rows, 4, p, context, sampler);
}

TEST(VerifyDrafts, GreedyKeepsDraftsWhileTheyAreTheTargetsChoice) {
  // Target argmaxes 2, 1, 3 after context, +d1, +d1 d2.
  auto v = greedy({2, 1, 3}, {2, 0});  // d1 = 2 kept, d2 = 0 != 1: the correction 1 follows
  EXPECT_EQ(v.tokens, (Ids{2, 1}));
  EXPECT_EQ(v.accepted, 1);
  v = greedy({2, 1, 3}, {2, 1});  // both kept, the bonus token 3 from the last row
  EXPECT_EQ(v.tokens, (Ids{2, 1, 3}));
  EXPECT_EQ(v.accepted, 2);
  v = greedy({2, 1, 3}, {0, 1});  // first rejected: later rows are not looked at
  EXPECT_EQ(v.tokens, (Ids{2}));
  EXPECT_EQ(v.accepted, 0);
  v = greedy({3}, {});  // no drafts: a plain decode step
  EXPECT_EQ(v.tokens, (Ids{3}));
  EXPECT_EQ(v.accepted, 0);
}

TEST(VerifyDrafts, RepetitionPenaltySeesTheKeptDrafts) {
  // Row 1 prefers 2 (logit 2.0) over 0 (1.5); with penalty 2 a seen 2 drops to 1.0, so 0 wins, but only if the
  // history holds the kept draft 2.
  std::vector<float> rows = {0, 0, 1, 0, /* row 1 */ 1.5f, 0, 2.0f, 0};
  SamplingParams params;
  params.repetition_penalty = 2.0f;
  Sampler sampler(params);
  Proposal p;
  p.tokens = {2};
  const Ids context = {1};
  const VerifiedTokens v = verify_drafts(rows, 4, p, context, sampler);
  EXPECT_EQ(v.tokens, (Ids{2, 0}));
}

TEST(VerifyDrafts, SamplingKeepsACertainDraft) {
  // The target puts all its mass on the draft (logit 100 vs 0 at temperature 1): kept with probability 1.
  std::vector<float> rows = {0, 100, 0, 0, /* row 1 */ 0, 0, 0, 100};
  SamplingParams params;
  params.temperature = 1.0f;
  Sampler sampler(params);
  Proposal p;
  p.tokens = {1};
  const Ids context = {0};
  const VerifiedTokens v = verify_drafts(rows, 4, p, context, sampler);
  EXPECT_EQ(v.tokens, (Ids{1, 3}));
  EXPECT_EQ(v.accepted, 1);
}

}  // namespace
}  // namespace helix
