// Prompt lookup: exact proposals on small contexts, and the proposer's batch interface.
#include "engine/speculative/ngram_proposer.h"

#include <gtest/gtest.h>

namespace helix {
namespace {

using Ids = std::vector<int32_t>;

TEST(NgramLookup, LongestSuffixMatchProposesWhatFollowed) {
  // Suffix [1 2 3] (n = 3) occurred at 0; tokens after it: 4 1 2.
  const Ids c = {1, 2, 3, 4, 1, 2, 3};
  EXPECT_EQ(ngram_lookup(c, 3), (Ids{4, 1, 2}));
  EXPECT_EQ(ngram_lookup(c, 1), (Ids{4}));
  EXPECT_EQ(ngram_lookup(c, 8), (Ids{4, 1, 2, 3}));  // capped at the end of the context
}

TEST(NgramLookup, MostRecentMatchWins) {
  // No earlier [8 5 6]; [5 6] occurs at 0 (then 7) and at 3 (then 8): the later one is used.
  const Ids c = {5, 6, 7, 5, 6, 8, 5, 6};
  EXPECT_EQ(ngram_lookup(c, 3), (Ids{8, 5, 6}));
}

TEST(NgramLookup, FallsBackToShorterNgrams) {
  // [9 4 2] and [4 2] never occurred before; [2] did, at 1, followed by 7 3.
  const Ids c = {1, 2, 7, 3, 9, 4, 2};
  EXPECT_EQ(ngram_lookup(c, 2), (Ids{7, 3}));
  EXPECT_EQ(ngram_lookup(c, 2, 3, 2), Ids{});  // min n = 2: no match
}

TEST(NgramLookup, NothingToMatch) {
  EXPECT_EQ(ngram_lookup(Ids{1}, 4), Ids{});
  EXPECT_EQ(ngram_lookup(Ids{1, 2, 3, 4}, 4), Ids{});
  EXPECT_EQ(ngram_lookup(Ids{1, 1}, 0), Ids{});
  // A run of one token: [1 1 1] matched at 0 -> the next token 1.
  EXPECT_EQ(ngram_lookup(Ids{1, 1, 1, 1}, 4), (Ids{1}));
}

TEST(NgramProposer, AnswersEachRequestWithoutDistributions) {
  NgramProposer p;
  const Ids a = {1, 2, 3, 1, 2}, b = {4, 5, 6};
  std::vector<ProposeRequest> reqs = {{SeqId{0}, a, 2}, {SeqId{1}, b, 2}};
  std::vector<Proposal> out;
  ASSERT_TRUE(p.propose(reqs, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].tokens, (Ids{3, 1}));
  EXPECT_TRUE(out[0].dists.empty());  // deterministic: one-hot
  EXPECT_TRUE(out[1].tokens.empty());
}

}  // namespace
}  // namespace helix
