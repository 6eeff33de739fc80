// The rejection rule: whatever the draft distribution q, the token that comes out is distributed as the
// target's p. Checked on a 4- and 6-token vocabulary with known p and q over many seeded draws, each bucket
// within 5 standard deviations of N * p, and end to end through the generator with a weak draft against plain
// sampling (two-sample chi-square).
#include <cmath>

#include "engine/speculative/rejection_sampler.h"
#include "speculative_test_util.h"

namespace helix {
namespace {

using namespace spectest;

// Draws x ~ q (or takes the fixed proposal), applies the rule, and counts what comes out.
struct Tally {
  std::vector<int64_t> counts;
  int64_t accepted = 0;
};

Tally run_rule(const std::vector<TokenProb>& p, const std::vector<TokenProb>& q, int32_t fixed_proposal, int vocab,
               int64_t n, uint64_t seed) {
  Rng rng(seed);
  Sampler draft_sampler(SamplingParams{1.0f, 0, 1.0f, 0.0f, 1.0f, 64, seed ^ 0xabcdefull});
  Tally t;
  t.counts.assign(vocab, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = q.empty() ? fixed_proposal : draft_sampler.draw(q);
    const TokenVerdict v = verify_sampled_token(p, q, x, rng);
    ++t.counts.at(v.token);
    t.accepted += v.accepted;
    if (v.accepted) {
      EXPECT_EQ(v.token, x);
    }
  }
  return t;
}

// |count - n p| <= 5 sqrt(n p (1 - p)) per bucket; a token with p = 0 must never come out.
void expect_matches(const Tally& t, const std::vector<double>& p, int64_t n) {
  for (size_t i = 0; i < p.size(); ++i) {
    const double mean = n * p[i];
    const double sigma = std::sqrt(n * p[i] * (1.0 - p[i]));
    if (p[i] == 0.0) {
      EXPECT_EQ(t.counts[i], 0) << "token " << i;
    } else {
      EXPECT_NEAR(static_cast<double>(t.counts[i]), mean, 5.0 * sigma) << "token " << i;
    }
  }
}

constexpr int64_t kDraws = 200000;

TEST(RejectionSampler, OutputFollowsTargetForAnyDraft) {
  // p and q disagree on every token. Acceptance = sum_x min(p, q) = 0.1 + 0.2 + 0.15 + 0.05 = 0.5.
  const std::vector<TokenProb> p = {{0, 0.5f}, {1, 0.3f}, {2, 0.15f}, {3, 0.05f}};
  const std::vector<TokenProb> q = {{3, 0.4f}, {2, 0.3f}, {1, 0.2f}, {0, 0.1f}};
  const Tally t = run_rule(p, q, -1, 4, kDraws, 1);
  expect_matches(t, {0.5, 0.3, 0.15, 0.05}, kDraws);
  EXPECT_NEAR(static_cast<double>(t.accepted) / kDraws, 0.5, 5.0 * std::sqrt(0.25 / kDraws));
}

TEST(RejectionSampler, DraftWiderThanTheFilteredTarget) {
  // The target kept two tokens (top-k 2); the draft spreads over six. Acceptance = min(.7,.1)+min(.3,.1) = 0.2.
  const std::vector<TokenProb> p = {{4, 0.7f}, {1, 0.3f}};
  const std::vector<TokenProb> q = {{0, 0.3f}, {2, 0.2f}, {3, 0.2f}, {1, 0.1f}, {4, 0.1f}, {5, 0.1f}};
  const Tally t = run_rule(p, q, -1, 6, kDraws, 2);
  expect_matches(t, {0, 0.3, 0, 0, 0.7, 0}, kDraws);
  EXPECT_NEAR(static_cast<double>(t.accepted) / kDraws, 0.2, 5.0 * std::sqrt(0.16 / kDraws));
}

TEST(RejectionSampler, DeterministicProposalIsOneHot) {
  // Prompt lookup proposes token 1 every time: kept with probability p(1) = 0.3; otherwise p without token 1.
  const std::vector<TokenProb> p = {{0, 0.5f}, {1, 0.3f}, {2, 0.15f}, {3, 0.05f}};
  const Tally t = run_rule(p, {}, 1, 4, kDraws, 3);
  expect_matches(t, {0.5, 0.3, 0.15, 0.05}, kDraws);
  EXPECT_EQ(t.accepted, t.counts[1]);  // token 1 only ever comes out accepted
  // A proposal the target filtered out is always rejected.
  const Tally never = run_rule(p, {}, 3, 4, 1000, 4);
  EXPECT_GT(never.accepted, 0);  // p(3) = 0.05: accepted about 50 times in 1000
  const std::vector<TokenProb> top2 = {{0, 0.6f}, {1, 0.4f}};
  const Tally filtered = run_rule(top2, {}, 3, 4, 1000, 5);
  EXPECT_EQ(filtered.accepted, 0);
  EXPECT_EQ(filtered.counts[3], 0);
}

TEST(RejectionSampler, EqualDistributionsAlwaysAccept) {
  const std::vector<TokenProb> p = {{2, 0.6f}, {0, 0.25f}, {1, 0.15f}};
  const Tally t = run_rule(p, p, -1, 3, 10000, 6);
  EXPECT_EQ(t.accepted, 10000);
}

// Upper 1e-4 quantile of chi-square with `dof` degrees of freedom (Wilson-Hilferty; z = 3.719).
double chi2_critical(size_t dof) {
  const double k = static_cast<double>(dof), z = 3.719;
  const double c = 1.0 - 2.0 / (9.0 * k) + z * std::sqrt(2.0 / (9.0 * k));
  return k * c * c * c;
}

// The target's sampling distribution after each prefix of `tokens`: one forward with a row per token.
std::vector<std::vector<TokenProb>> target_distributions(Transformer& model, const std::vector<int32_t>& tokens,
                                                         const SamplingParams& params) {
  ModelShape shape = model.shape();
  shape.kv_dtype = DType::F32;
  auto storage = KvStorage::create(shape, 1, 64);
  EXPECT_TRUE(storage);
  std::vector<PagedKv> layers;
  for (int32_t l = 0; l < storage->n_layers(); ++l) layers.push_back(storage->layer(l));
  const std::vector<int32_t> table = {0};
  SequenceStep step;
  step.tokens = tokens;
  step.block_table = table;
  step.all_logits = true;
  ThreadPool pool(1);
  std::vector<float> logits;
  model.forward(std::span<const SequenceStep>(&step, 1), layers, pool, logits);
  const int64_t vocab = shape.vocab_size;
  Sampler sampler(params);
  std::vector<std::vector<TokenProb>> out;
  for (size_t i = 0; i < tokens.size(); ++i)
    out.push_back(sampler.distribution(std::span<float>(&logits[i * vocab], vocab),
                                       std::span<const int32_t>(tokens).first(i + 1)));
  return out;
}

// End to end: stories260K at temperature 1 (no filter) with a slightly perturbed q4_0 draft (K = 3, about 85 %
// accepted), 6 tokens from BOS over 1000 seeds. Given its prefix each generated token must be a draw from the
// target's distribution for that prefix, so the count of each id over all runs and positions must match the sum
// of those exact probabilities (Pearson chi-square at the 1e-4 level, outcomes expected fewer than 5 times
// pooled; with a different distribution per draw the statistic is if anything smaller than chi-square). This
// checks the wiring (rows, histories, draft distributions); a draft distribution misaligned by one position
// gives chi-square ~460 here, a logits row off by one ~17000. The rule itself is checked above with 200000
// draws, where subtler mistakes show.
TEST(RejectionSampler, SpeculativeSamplingFollowsTheTargetDistribution) {
  test::TempDir dir;
  auto spec = make_draft_spec(stories("stories260K.bin"), write_weak_draft(dir, 0.1f), 3, engine_options(16, 64));
  auto reference = load(stories("stories260K.bin"));
  constexpr int kRuns = 1000;
  constexpr int64_t kTokens = 6;
  std::vector<double> expected(512, 0.0), observed(512, 0.0);
  int64_t accepted = 0, proposed = 0;
  for (int i = 0; i < kRuns; ++i) {
    GenerationRequest r = request({1}, kTokens);
    r.sampling.temperature = 1.0f;
    r.sampling.seed = 5000 + i;
    auto out = spec->generate(std::span<const GenerationRequest>(&r, 1));
    ASSERT_TRUE(out);
    accepted += spec->last_stats().accepted;
    proposed += spec->last_stats().proposed;
    std::vector<int32_t> seq = {1};
    seq.insert(seq.end(), (*out)[0].tokens.begin(), (*out)[0].tokens.end() - 1);
    const auto dists = target_distributions(*reference, seq, r.sampling);
    for (int64_t j = 0; j < kTokens; ++j) {
      for (const TokenProb& t : dists[j]) expected[t.id] += t.prob;
      observed[(*out)[0].tokens[j]] += 1.0;
    }
  }
  EXPECT_GT(accepted, proposed / 10);
  EXPECT_GT(proposed - accepted, 100);  // both branches of the rule ran often
  double chi2 = 0.0, pooled_e = 0.0, pooled_o = 0.0;
  size_t buckets = 0;
  for (int id = 0; id < 512; ++id) {
    if (expected[id] < 5.0) {
      pooled_e += expected[id];
      pooled_o += observed[id];
      continue;
    }
    chi2 += (observed[id] - expected[id]) * (observed[id] - expected[id]) / expected[id];
    ++buckets;
  }
  if (pooled_e > 0) {
    chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
    ++buckets;
  }
  ASSERT_GE(buckets, 20u);
  EXPECT_LT(chi2, chi2_critical(buckets - 1)) << buckets - 1 << " degrees of freedom";
}

}  // namespace
}  // namespace helix
