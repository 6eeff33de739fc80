// Speculative decoding inside the serving engine on stories260K. Greedy output with speculation (prompt lookup,
// or a draft model: the same file, a q8_0 copy, a noisy q4_0 copy) is exactly the golden ids and exactly the
// engine's output without speculation, whatever the block size, K, batch, n > 1, step budget or preemption.
// After every request, both pools are empty again, and the counters add up to the tokens streamed.
#include "engine/serving_engine_impl.h"

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "speculative_test_util.h"

namespace helix {
namespace {

using namespace std::chrono_literals;
using spectest::golden_ids;
using spectest::stories;

struct SpecConfig {
  SpecMethod method = SpecMethod::None;
  int32_t k = 4;
  int32_t block_size = 16;
  int64_t num_blocks = 0;          // 0: 4096 tokens' worth
  int64_t max_step_tokens = 512;
  std::string draft;               // draft model file (method Draft)
  bool prefix_caching = true;
};

std::unique_ptr<ServingEngineImpl> make_engine(const SpecConfig& c) {
  spdlog::set_level(spdlog::level::warn);
  test::LoadedModel loaded = test::load_model(stories("stories260K.bin"));
  ServingOptions o;
  o.engine.block_size = c.block_size;
  o.engine.num_blocks = c.num_blocks > 0 ? c.num_blocks : 4096 / c.block_size;
  o.engine.threads = 1;
  o.engine.kv_dtype = DType::F32;  // the golden ids are from an fp32 cache
  o.max_step_tokens = c.max_step_tokens;
  o.watermark = 0;
  o.enable_prefix_caching = c.prefix_caching;
  o.spec_method = c.method;
  o.spec_tokens = c.k;
  std::unique_ptr<Transformer> draft;
  if (!c.draft.empty()) draft = spectest::load(c.draft);
  auto engine = ServingEngineImpl::create(std::move(loaded.model), std::move(*loaded.tokenizer), o, std::move(draft));
  EXPECT_TRUE(engine) << engine.error().message;
  return std::move(*engine);
}

struct Output {
  std::map<int32_t, std::vector<int32_t>> tokens;  // per choice
  std::map<int32_t, FinishKind> finish;
  int64_t draft_tokens = 0;  // events marked as accepted drafts
};

Output drain(RequestHandle& h) {
  Output o;
  TokenEvent e;
  while (h.next(e, 0ms)) {
    if (e.token) {
      o.tokens[e.index].push_back(*e.token);
      o.draft_tokens += e.source == TokenSource::Draft ? 1 : 0;
    }
    if (e.finish != FinishKind::None) o.finish[e.index] = e.finish;
  }
  return o;
}

RequestParams params(std::vector<int32_t> prompt, int64_t max_tokens, int32_t n = 1) {
  RequestParams p;
  p.prompt = std::move(prompt);
  p.max_tokens = max_tokens;
  p.n = n;
  p.ignore_eos = true;
  return p;
}

std::shared_ptr<RequestHandle> submit(ServingEngineImpl& e, RequestParams p) {
  auto h = e.submit(std::move(p));
  EXPECT_TRUE(h) << h.error().message;
  return *h;
}

// Every block of both pools is back: none held by a sequence.
void expect_pools_empty(const ServingEngineImpl& e) {
  const KvSnapshot target = e.kv_snapshot();
  EXPECT_EQ(target.used_blocks, 0);
  EXPECT_TRUE(target.sequences.empty());
  if (auto draft = e.draft_kv_snapshot()) {
    EXPECT_EQ(draft->used_blocks, 0);
    EXPECT_EQ(draft->free_blocks, draft->num_blocks);
    EXPECT_TRUE(draft->sequences.empty());
  }
}

const std::string& q8_draft() {
  static test::TempDir dir;
  static const std::string path = spectest::write_weak_draft(dir, 0.0f, DType::Q8_0);
  return path;
}

const std::string& noisy_draft() {
  static test::TempDir dir;
  static const std::string path = spectest::write_weak_draft(dir, 0.5f, DType::Q4_0);
  return path;
}

// (method, draft file kind: 0 same file, 1 q8_0, 2 noisy q4_0), block size, K.
class SpeculativeGolden : public ::testing::TestWithParam<std::tuple<SpecMethod, int, int32_t, int32_t>> {};

TEST_P(SpeculativeGolden, GreedyFromBosIsTheGoldenIds) {
  const auto& [method, draft_kind, block_size, k] = GetParam();
  SpecConfig c;
  c.method = method;
  c.k = k;
  c.block_size = block_size;
  if (method == SpecMethod::Draft)
    c.draft = draft_kind == 0 ? stories("stories260K.bin") : draft_kind == 1 ? q8_draft() : noisy_draft();
  auto engine = make_engine(c);
  const int64_t n = static_cast<int64_t>(golden_ids().size());  // 200
  auto h = submit(*engine, params({engine->tokenizer().bos_id()}, n));
  engine->run_until_idle();
  const Output out = drain(*h);
  EXPECT_EQ(out.tokens.at(0), golden_ids());
  EXPECT_EQ(out.finish.at(0), FinishKind::Length);

  const RequestUsage u = h->usage();
  const EngineMetrics m = engine->metrics();
  EXPECT_GT(u.spec_proposed, 0);
  EXPECT_EQ(u.spec_accepted, out.draft_tokens);
  EXPECT_EQ(static_cast<int64_t>(m.spec_proposed_total), u.spec_proposed);
  EXPECT_EQ(static_cast<int64_t>(m.spec_accepted_total), u.spec_accepted);
  EXPECT_EQ(static_cast<int64_t>(m.spec_verify_steps_total), u.spec_verify_steps);
  ASSERT_EQ(u.spec_accepted_histogram.size(), static_cast<size_t>(k) + 1);
  int64_t steps = 0, accepted = 0;
  for (size_t i = 0; i < u.spec_accepted_histogram.size(); ++i) {
    steps += u.spec_accepted_histogram[i];
    accepted += static_cast<int64_t>(i) * u.spec_accepted_histogram[i];
  }
  EXPECT_EQ(steps, u.spec_verify_steps);
  EXPECT_EQ(accepted, u.spec_accepted);
  // One forward for the prompt (it yields token 1); each of the others yields 1 + its accepted drafts.
  EXPECT_EQ(u.target_forwards, 1 + (n - 1 - u.spec_accepted));
  EXPECT_EQ(m.generation_tokens_total, static_cast<uint64_t>(n));
  if (method == SpecMethod::Draft && draft_kind == 0) {
    EXPECT_EQ(u.spec_accepted, u.spec_proposed);  // same model
  }
  expect_pools_empty(*engine);
}

std::string golden_name(const ::testing::TestParamInfo<SpeculativeGolden::ParamType>& info) {
  const auto& [method, draft_kind, block_size, k] = info.param;
  const char* kinds[] = {"same", "q8", "noisy"};
  return std::string(spec_method_name(method)) + (method == SpecMethod::Draft ? kinds[draft_kind] : "") + "_bs" +
         std::to_string(block_size) + "_k" + std::to_string(k);
}

INSTANTIATE_TEST_SUITE_P(Ngram, SpeculativeGolden,
                         ::testing::Combine(::testing::Values(SpecMethod::Ngram), ::testing::Values(0),
                                            ::testing::Values(1, 16, 64), ::testing::Values(1, 4, 8)),
                         golden_name);
INSTANTIATE_TEST_SUITE_P(Draft, SpeculativeGolden,
                         ::testing::Values(std::make_tuple(SpecMethod::Draft, 0, 16, 4),
                                           std::make_tuple(SpecMethod::Draft, 1, 1, 8),
                                           std::make_tuple(SpecMethod::Draft, 1, 64, 1),
                                           std::make_tuple(SpecMethod::Draft, 2, 16, 4),
                                           std::make_tuple(SpecMethod::Draft, 2, 1, 8)),
                         golden_name);

// Several requests of different lengths at once, one with n = 3, some speculating and some not: with a
// step budget that cuts drafts, or a pool small enough to preempt, each choice gets the ids the engine gives
// without speculation.
struct Workload {
  std::vector<RequestParams> requests;
};

Workload workload(const Tokenizer& tok) {
  Workload w;
  const std::vector<std::pair<std::string, int64_t>> texts = {
      {"Once upon a time", 40}, {"The little dog", 25}, {"Lily and Ben went to the park to play", 33},
      {"", 38}, {"Tom had a big red ball", 12}, {"One day", 30}};
  for (size_t i = 0; i < texts.size(); ++i) {
    RequestParams p = params(tok.encode(texts[i].first, true), texts[i].second, i == 1 ? 3 : 1);
    if (i == 4) p.speculation = SpecMethod::None;  // one request opts out
    if (i == 5) p.spec_tokens = 2;                 // one asks for fewer drafts than the server's K
    w.requests.push_back(std::move(p));
  }
  return w;
}

std::vector<Output> run_all(ServingEngineImpl& engine, const Workload& w) {
  std::vector<std::shared_ptr<RequestHandle>> handles;
  for (const RequestParams& p : w.requests) handles.push_back(submit(engine, p));
  engine.run_until_idle();
  std::vector<Output> out;
  for (auto& h : handles) {
    EXPECT_TRUE(h->finished());
    out.push_back(drain(*h));
  }
  return out;
}

class SpeculativeBatch : public ::testing::TestWithParam<std::tuple<SpecMethod, int32_t, int32_t, int>> {};

TEST_P(SpeculativeBatch, EveryChoiceMatchesThePlainEngine) {
  const auto& [method, block_size, k, pressure] = GetParam();
  SpecConfig plain;
  plain.block_size = block_size;
  auto reference_engine = make_engine(plain);
  const Workload w = workload(reference_engine->tokenizer());
  const std::vector<Output> reference = run_all(*reference_engine, w);

  SpecConfig c = plain;
  c.method = method;
  c.k = k;
  if (method == SpecMethod::Draft) c.draft = noisy_draft();
  if (pressure == 1) c.max_step_tokens = 7;  // fewer than the batch's drafts: chunks get cut
  if (pressure == 2) c.num_blocks = (96 + block_size - 1) / block_size;  // preemptions
  auto engine = make_engine(c);
  const std::vector<Output> out = run_all(*engine, w);
  int64_t tokens = 0, drafts = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].tokens, reference[i].tokens) << "request " << i;
    for (const auto& [choice, ids] : out[i].tokens) {
      tokens += static_cast<int64_t>(ids.size());
      EXPECT_EQ(out[i].finish.at(choice), FinishKind::Length);
    }
    drafts += out[i].draft_tokens;
  }
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.generation_tokens_total, static_cast<uint64_t>(tokens));
  EXPECT_EQ(static_cast<int64_t>(m.spec_accepted_total), drafts);
  EXPECT_GT(m.spec_proposed_total, 0u);
  if (pressure == 2) {
    const auto it = m.preemptions_by_reason.find("kv_cache_full");
    ASSERT_NE(it, m.preemptions_by_reason.end());
    EXPECT_GT(it->second, 0u);
  }
  expect_pools_empty(*engine);
}

std::string batch_name(const ::testing::TestParamInfo<SpeculativeBatch::ParamType>& info) {
  const auto& [method, bs, k, pressure] = info.param;
  const char* p[] = {"free", "budget", "preempt"};
  return std::string(spec_method_name(method)) + "_bs" + std::to_string(bs) + "_k" + std::to_string(k) + "_" +
         p[pressure];
}

INSTANTIATE_TEST_SUITE_P(
    All, SpeculativeBatch,
    ::testing::Values(std::make_tuple(SpecMethod::Ngram, 16, 4, 0), std::make_tuple(SpecMethod::Ngram, 1, 8, 0),
                      std::make_tuple(SpecMethod::Ngram, 64, 1, 0), std::make_tuple(SpecMethod::Ngram, 16, 4, 1),
                      std::make_tuple(SpecMethod::Ngram, 16, 4, 2), std::make_tuple(SpecMethod::Ngram, 1, 8, 2),
                      std::make_tuple(SpecMethod::Draft, 16, 4, 0), std::make_tuple(SpecMethod::Draft, 16, 8, 1),
                      std::make_tuple(SpecMethod::Draft, 16, 4, 2), std::make_tuple(SpecMethod::Draft, 1, 4, 2)),
    batch_name);

// Sampled requests speculate too (the rejection rule); nothing to compare exactly, but every choice ends at its
// length, the counters add up and both pools empty.
TEST(SpeculativeServing, SampledChoicesFinishAndFreeEverything) {
  SpecConfig c;
  c.method = SpecMethod::Draft;
  c.draft = noisy_draft();
  auto engine = make_engine(c);
  RequestParams p = params(engine->tokenizer().encode("Once upon a time", true), 40, 3);
  p.sampling.temperature = 0.8f;
  p.sampling.seed = 11;
  auto h = submit(*engine, p);
  RequestParams q = params({engine->tokenizer().bos_id()}, 30);
  q.sampling.temperature = 1.0f;
  q.speculation = SpecMethod::Ngram;
  auto h2 = submit(*engine, q);
  engine->run_until_idle();
  const Output out = drain(*h);
  ASSERT_EQ(out.tokens.size(), 3u);
  for (const auto& [choice, ids] : out.tokens) EXPECT_EQ(ids.size(), 40u) << "choice " << choice;
  EXPECT_EQ(drain(*h2).tokens.at(0).size(), 30u);
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.spec_accepted_total, static_cast<uint64_t>(h->usage().spec_accepted + h2->usage().spec_accepted));
  EXPECT_EQ(m.generation_tokens_total, 150u);
  expect_pools_empty(*engine);
}

// The draft model's pool shows while a sequence runs, and cancelling frees it at once.
TEST(SpeculativeServing, DraftPoolIsVisibleAndCancelFreesIt) {
  SpecConfig c;
  c.method = SpecMethod::Draft;
  c.draft = stories("stories260K.bin");
  auto engine = make_engine(c);
  auto h = submit(*engine, params(engine->tokenizer().encode("Once upon a time", true), 100));
  for (int i = 0; i < 4; ++i) engine->step();
  const auto draft = engine->draft_kv_snapshot();
  ASSERT_TRUE(draft.has_value());
  ASSERT_EQ(draft->sequences.size(), 1u);
  EXPECT_GT(draft->used_blocks, 0);
  EXPECT_EQ(engine->metrics().draft_kv_blocks_used, draft->used_blocks);
  EXPECT_EQ(engine->metrics().draft_kv_blocks_total, engine->num_blocks());
  h->cancel();
  engine->run_until_idle();
  EXPECT_EQ(drain(*h).finish.at(0), FinishKind::Cancelled);
  expect_pools_empty(*engine);
}

TEST(SpeculativeServing, RefusesWhatCannotRun) {
  SpecConfig c;
  auto engine = make_engine(c);  // no draft model
  RequestParams p = params({1}, 8);
  p.speculation = SpecMethod::Draft;
  auto r = engine->submit(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "speculation");
  p.speculation = SpecMethod::Ngram;
  p.spec_tokens = 9;
  r = engine->submit(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "spec_tokens");

  ServingOptions o;
  o.spec_tokens = 0;
  EXPECT_EQ(o.validate().error().param, "spec_tokens");
  o.spec_tokens = 4;
  o.spec_method = SpecMethod::Draft;
  auto created = ServingEngineImpl::create(spectest::load(stories("stories260K.bin")),
                                           *tokenizer_for_model(*open_model_file(stories("stories260K.bin"))), o);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().param, "spec");
}

}  // namespace
}  // namespace helix
