// The serving engine on stories260K: whatever the batch composition, arrival order, cache pressure
// (preemption), prefix sharing or cache mode, every request's ids equal the ids BatchGenerator gives it run
// alone (and the golden ids from BOS). Steps are driven by hand (no engine thread) so block counts can be
// checked at exact points; one test runs the thread.
#include "engine/serving_engine_impl.h"

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/tokenizer_for_model.h"
#include "test_util.h"

namespace helix {
namespace {

using namespace std::chrono_literals;

std::string model_path() { return test::shared_path("models/stories260K/stories260K.bin"); }

struct EngineConfig {
  std::string name;
  int64_t num_blocks = 256;
  KvCacheMode mode = KvCacheMode::Paged;
  int64_t max_seq_len = 0;
  bool prefix_caching = true;
  int64_t capacity_mean_tokens = 512;
};

std::unique_ptr<ServingEngineImpl> make_engine(const EngineConfig& c) {
  test::LoadedModel loaded = test::load_model(model_path());
  ServingOptions o;
  o.engine.num_blocks = c.num_blocks;
  o.engine.block_size = 16;
  o.engine.threads = 1;
  o.engine.max_seq_len = c.max_seq_len;
  o.kv_mode = c.mode;
  o.enable_prefix_caching = c.prefix_caching;
  o.watermark = 0;
  o.capacity_mean_tokens = c.capacity_mean_tokens;
  auto engine = ServingEngineImpl::create(std::move(loaded.model), std::move(*loaded.tokenizer), o);
  EXPECT_TRUE(engine) << engine.error().message;
  return std::move(*engine);
}

// The reference: one request alone through BatchGenerator (same block size and KV dtype).
std::vector<int32_t> alone(const std::vector<int32_t>& prompt, int64_t max_tokens, SamplingParams sampling = {}) {
  static std::unique_ptr<BatchGenerator> g = [] {
    EngineOptions o;
    o.num_blocks = 256;
    o.threads = 1;
    return std::move(*BatchGenerator::create(std::move(*Transformer::load(model_path())), o));
  }();
  GenerationRequest r;
  r.prompt = prompt;
  r.max_new_tokens = max_tokens;
  r.sampling = sampling;
  auto out = g->generate(std::span<const GenerationRequest>(&r, 1));
  EXPECT_TRUE(out) << out.error().message;
  return (*out)[0].tokens;
}

struct Output {
  std::map<int32_t, std::vector<int32_t>> tokens;  // per choice
  std::map<int32_t, FinishKind> finish;
};

Output drain(RequestHandle& h) {
  Output o;
  TokenEvent e;
  while (h.next(e, 0ms)) {
    if (e.token) o.tokens[e.index].push_back(*e.token);
    if (e.finish != FinishKind::None) o.finish[e.index] = e.finish;
  }
  return o;
}

RequestParams params(std::vector<int32_t> prompt, int64_t max_tokens) {
  RequestParams p;
  p.prompt = std::move(prompt);
  p.max_tokens = max_tokens;
  p.ignore_eos = true;  // BatchGenerator does not stop at EOS either
  return p;
}

std::shared_ptr<RequestHandle> submit(ServingEngineImpl& e, RequestParams p) {
  auto h = e.submit(std::move(p));
  EXPECT_TRUE(h) << h.error().message;
  return *h;
}

std::vector<int32_t> golden_ids() {
  std::ifstream f(test::shared_path("testdata/stories260K-greedy.json"));
  return nlohmann::json::parse(f)["ids"].get<std::vector<int32_t>>();
}

// Prompts of 1 to 12 tokens; with up to 40 generated each stays within 52 tokens (max_seq_len 64 below).
std::vector<RequestParams> workload(const Tokenizer& tok) {
  const std::vector<std::pair<std::string, int64_t>> texts = {
      {"Once upon a time", 40}, {"The little dog", 25}, {"Lily and Ben went to the park to play", 33},
      {"", 38},  // BOS only
      {"Tom had a big red ball", 12}, {"One day", 30}};
  std::vector<RequestParams> out;
  for (const auto& [text, n] : texts) out.push_back(params(tok.encode(text, true), n));
  return out;
}

class ServingEngineBatches : public ::testing::TestWithParam<std::tuple<EngineConfig, int>> {};

TEST_P(ServingEngineBatches, EachRequestMatchesItsRunAlone) {
  const auto& [config, order] = GetParam();
  auto engine = make_engine(config);
  std::vector<RequestParams> reqs = workload(engine->tokenizer());
  if (order == 1) std::reverse(reqs.begin(), reqs.end());
  std::vector<std::shared_ptr<RequestHandle>> handles(reqs.size());
  // order 0 and 1: everything at once; order 2: arrivals spread over the first steps.
  for (size_t i = 0; i < reqs.size(); ++i) {
    handles[i] = submit(*engine, reqs[i]);
    if (order == 2)
      for (size_t s = 0; s < i; ++s) engine->step();
  }
  engine->run_until_idle();
  for (size_t i = 0; i < reqs.size(); ++i) {
    const Output out = drain(*handles[i]);
    EXPECT_EQ(out.tokens.at(0), alone(reqs[i].prompt, reqs[i].max_tokens)) << "request " << i;
    EXPECT_EQ(out.finish.at(0), FinishKind::Length);
    EXPECT_TRUE(handles[i]->finished());
    EXPECT_EQ(handles[i]->usage().completion_tokens, reqs[i].max_tokens);
  }
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.kv_blocks_used, 0);
  EXPECT_EQ(m.requests_finished_total, reqs.size());
  // Together the requests need far more than 6 blocks: a 6-block pool must preempt; the others never do.
  const uint64_t preemptions = m.preemptions_by_reason.count("kv_cache_full") ? m.preemptions_by_reason.at("kv_cache_full") : 0;
  if (config.num_blocks == 6)
    EXPECT_GT(preemptions, 0u);
  else
    EXPECT_EQ(preemptions, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Configs, ServingEngineBatches,
    ::testing::Combine(::testing::Values(EngineConfig{"paged", 256}, EngineConfig{"paged_6_blocks", 6},
                                         EngineConfig{"paged_no_prefix_cache", 256, KvCacheMode::Paged, 0, false},
                                         EngineConfig{"contiguous", 8, KvCacheMode::Contiguous, 64}),
                       ::testing::Values(0, 1, 2)),
    [](const auto& info) {
      return std::get<0>(info.param).name + "_order" + std::to_string(std::get<1>(info.param));
    });

TEST(ServingEngine, GoldenIdsInABatch) {
  auto engine = make_engine({"paged", 64});
  auto golden = submit(*engine, params({1}, 200));
  auto other = submit(*engine, params(engine->tokenizer().encode("The cat sat", true), 30));
  engine->step();
  auto late = submit(*engine, params({1}, 50));
  engine->run_until_idle();
  EXPECT_EQ(drain(*golden).tokens.at(0), golden_ids());
  const std::vector<int32_t> g = golden_ids();
  EXPECT_EQ(drain(*late).tokens.at(0), std::vector<int32_t>(g.begin(), g.begin() + 50));
  EXPECT_EQ(drain(*other).tokens.at(0).size(), 30u);
}

TEST(ServingEngine, PreemptedSeededSamplingContinuesIdentically) {
  SamplingParams s;
  s.temperature = 0.9f;
  s.top_p = 0.9f;
  std::vector<RequestParams> reqs;
  for (uint64_t i = 0; i < 4; ++i) {
    RequestParams p = params({1}, 60);  // 60 slots = 4 blocks each: two of them fill the 6-block pool
    p.sampling = s;
    p.sampling.seed = 100 + i;
    reqs.push_back(p);
  }
  auto engine = make_engine({"paged_6_blocks", 6});
  std::vector<std::shared_ptr<RequestHandle>> handles;
  for (const auto& r : reqs) handles.push_back(submit(*engine, r));
  engine->run_until_idle();
  EXPECT_GT(engine->metrics().preemptions_by_reason.at("kv_cache_full"), 0u);
  for (size_t i = 0; i < reqs.size(); ++i)
    EXPECT_EQ(drain(*handles[i]).tokens.at(0), alone(reqs[i].prompt, 60, reqs[i].sampling)) << "request " << i;
}

TEST(ServingEngine, ParallelSamplesShareThePromptAndMatchSeededRunsAlone) {
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 403,
                                       407, 261, 378, 432, 383, 286, 261, 376};  // 20 tokens
  RequestParams p = params(prompt, 12);
  p.n = 3;
  p.sampling.temperature = 1.0f;
  p.sampling.seed = 42;
  for (KvCacheMode mode : {KvCacheMode::Paged, KvCacheMode::Contiguous}) {
    auto engine = make_engine({"", 32, mode, 64});
    auto h = submit(*engine, p);
    engine->step();  // the prompt, then the first token of every choice
    if (mode == KvCacheMode::Paged) {
      // One prompt's blocks (20 tokens = 2) held by all three choices.
      const KvSnapshot snap = engine->kv_snapshot();
      EXPECT_EQ(snap.used_blocks, 2);
      EXPECT_EQ(snap.blocks[0].ref_count, 3);
      EXPECT_EQ(snap.blocks[1].ref_count, 3);
      engine->step();
      // Each writes position 20 into the shared half-full block 1: two copy it, the last writes in place;
      // block 0 stays shared. 4 blocks instead of 3 x 2 = 6.
      EXPECT_EQ(engine->kv_snapshot().used_blocks, 4);
      EXPECT_EQ(engine->kv_snapshot().blocks[0].ref_count, 3);
    } else {
      // Every choice computes the prompt in its own reservation of 64 tokens = 4 blocks.
      EXPECT_EQ(engine->kv_snapshot().used_blocks, 12);
    }
    engine->run_until_idle();
    const Output out = drain(*h);
    ASSERT_EQ(out.tokens.size(), 3u);
    for (int32_t c = 0; c < 3; ++c) {
      SamplingParams s = p.sampling;
      s.seed = 42 + static_cast<uint64_t>(c);
      EXPECT_EQ(out.tokens.at(c), alone(prompt, 12, s)) << "choice " << c;
      EXPECT_EQ(out.finish.at(c), FinishKind::Length);
    }
    EXPECT_NE(out.tokens.at(0), out.tokens.at(1));
    EXPECT_EQ(h->usage().completion_tokens, 36);
    EXPECT_EQ(h->usage().prompt_tokens, 20);
    EXPECT_EQ(engine->kv_snapshot().used_blocks, 0);
  }
}

TEST(ServingEngine, PrefixHitUsesFewerBlocksAndKeepsOutputs) {
  auto engine = make_engine({"paged", 32});
  std::vector<int32_t> a_prompt = {1};
  for (int32_t i = 0; i < 39; ++i) a_prompt.push_back(300 + i);  // 40 tokens
  std::vector<int32_t> b_prompt(a_prompt.begin(), a_prompt.begin() + 32);
  for (int32_t t : {5, 6, 7, 8, 9}) b_prompt.push_back(t);  // 37 tokens: the first 32 shared
  auto a = submit(*engine, params(a_prompt, 10));
  engine->step();  // a's prompt: 3 blocks, the two full ones now cached
  auto b = submit(*engine, params(b_prompt, 10));
  engine->step();
  // b adopted a's two full blocks and took one for its last 5 tokens: 3 + 1 blocks instead of 3 + 3.
  const KvSnapshot snap = engine->kv_snapshot();
  EXPECT_EQ(snap.used_blocks, 4);
  EXPECT_EQ(snap.blocks[0].ref_count, 2);
  EXPECT_EQ(snap.blocks[1].ref_count, 2);
  engine->run_until_idle();
  EXPECT_EQ(b->usage().cached_prompt_tokens, 32);
  EXPECT_EQ(a->usage().cached_prompt_tokens, 0);
  EXPECT_EQ(drain(*a).tokens.at(0), alone(a_prompt, 10));
  EXPECT_EQ(drain(*b).tokens.at(0), alone(b_prompt, 10));
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.prefix_queries_tokens, 77u);  // 40 + 37
  EXPECT_EQ(m.prefix_hits_tokens, 32u);
  EXPECT_EQ(m.prompt_tokens_total, 77u);

  // After both finished their blocks stay cached (free): the same prompt again hits 2 blocks.
  auto c = submit(*engine, params(a_prompt, 3));
  engine->run_until_idle();
  EXPECT_EQ(c->usage().cached_prompt_tokens, 32);
  EXPECT_EQ(drain(*c).tokens.at(0), alone(a_prompt, 3));
}

TEST(ServingEngine, StopIdsEndAChoiceWithoutTheStopToken) {
  auto engine = make_engine({"paged", 32});
  RequestParams p = params({1}, 50);
  p.stop_ids = {261};  // the third golden token (403, 407, 261)
  auto h = submit(*engine, p);
  engine->run_until_idle();
  const Output out = drain(*h);
  EXPECT_EQ(out.tokens.at(0), (std::vector<int32_t>{403, 407}));
  EXPECT_EQ(out.finish.at(0), FinishKind::Stop);
  EXPECT_EQ(h->usage().completion_tokens, 3);  // the stop token was generated, not emitted
  EXPECT_EQ(engine->metrics().kv_blocks_used, 0);
}

TEST(ServingEngine, CancelFreesBlocksAtOnce) {
  auto engine = make_engine({"paged", 32});
  auto a = submit(*engine, params({1}, 100));
  auto b = submit(*engine, params({1, 403}, 100));
  for (int i = 0; i < 20; ++i) engine->step();
  // a holds 20 tokens, b 21: two blocks each.
  EXPECT_EQ(engine->metrics().kv_blocks_used, 4);
  a->cancel();
  engine->step();
  EXPECT_EQ(engine->metrics().kv_blocks_used, 2);
  const Output out = drain(*a);
  EXPECT_EQ(out.tokens.at(0).size(), 20u);
  EXPECT_EQ(out.finish.at(0), FinishKind::Cancelled);
  EXPECT_TRUE(a->finished());
  TokenEvent e;
  EXPECT_FALSE(a->next(e, 1000ms));  // finished: returns at once
  // Dropping the last handle cancels too.
  b.reset();
  engine->step();
  EXPECT_EQ(engine->metrics().kv_blocks_used, 0);
  EXPECT_FALSE(engine->has_work());
  EXPECT_EQ(engine->metrics().requests_cancelled_total, 2u);
  EXPECT_EQ(engine->metrics().requests_finished_total, 0u);
}

TEST(ServingEngine, NeverFittingRequestsAreRefusedAtSubmit) {
  auto engine = make_engine({"paged_6_blocks", 6, KvCacheMode::Paged, 128});
  auto expect_refused = [&](RequestParams p, const std::string& param, const std::string& words) {
    auto h = engine->submit(std::move(p));
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().param, param);
    EXPECT_NE(h.error().message.find(words), std::string::npos) << h.error().message;
  };
  // 10 + 100 - 1 = 109 slots = 7 blocks of 16 > 6.
  expect_refused(params(std::vector<int32_t>(10, 1), 100), "max_tokens", "the whole pool has 6");
  expect_refused(params(std::vector<int32_t>(10, 1), 119), "max_tokens", "exceeds max_seq_len 128");
  expect_refused(params(std::vector<int32_t>(128, 1), 1), "prompt", "max_seq_len 128");
  expect_refused(params({}, 5), "prompt", "empty");
  expect_refused(params({1, 512}, 5), "prompt", "outside the vocabulary");
  // n = 4 choices of 5 + 40 - 1 = 44 slots: 3 blocks each, none shared (5 < 16): 12 > 6.
  RequestParams p = params(std::vector<int32_t>(5, 1), 40);
  p.n = 4;
  expect_refused(p, "n", "need 12 KV blocks");
  p.n = 2;  // 6 blocks: fits exactly
  auto fits = engine->submit(p);
  ASSERT_TRUE(fits);
  EXPECT_EQ(engine->metrics().requests_rejected_total, 6u);
  engine->run_until_idle();
  EXPECT_EQ(engine->metrics().requests_finished_total, 1u);
}

TEST(ServingEngine, MetricsCountTokensAndLatencies) {
  auto engine = make_engine({"paged", 32});
  auto a = submit(*engine, params({1}, 5));
  auto b = submit(*engine, params({1, 403, 407}, 7));
  engine->run_until_idle();
  const EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.prompt_tokens_total, 4u);
  EXPECT_EQ(m.generation_tokens_total, 12u);
  EXPECT_EQ(m.requests_finished_total, 2u);
  EXPECT_EQ(m.time_to_first_token.count, 2u);
  EXPECT_EQ(m.time_per_output_token.count, 10u);  // (5 - 1) + (7 - 1) gaps between tokens
  EXPECT_EQ(m.request_latency.count, 2u);
  EXPECT_EQ(m.time_to_first_token.counts.back(), 2u);  // cumulative: the last finite bucket (80 s) holds all
  EXPECT_EQ(m.running, 0);
  EXPECT_EQ(m.waiting, 0);
  EXPECT_EQ(m.kv_blocks_total, 32);
  EXPECT_GE(m.request_latency.sum, m.time_to_first_token.sum);
}

TEST(ServingEngine, LiveMemoryAndCapacity) {
  auto engine = make_engine({"paged", 32, KvCacheMode::Paged, 256, true, 40});
  // stories260K: 5 layers, 4 KV heads of 8 dims, f16: 5 * 2 * 4 * 8 * 2 = 640 bytes per token.
  const CapacityReport cap = engine->capacity();
  EXPECT_EQ(cap.pool_blocks, 32);
  EXPECT_EQ(cap.pool_tokens, 512);
  EXPECT_EQ(cap.pool_bytes, 512 * 640);
  EXPECT_EQ(cap.max_seq_len, 256);
  EXPECT_EQ(cap.mean_tokens, 40);
  EXPECT_EQ(cap.contiguous_sequences, 2);  // 512 tokens / 256
  EXPECT_EQ(cap.paged_sequences, 10);      // 40 tokens = 3 blocks: 32 / 3
  auto a = submit(*engine, params({1, 403, 407}, 10));
  auto b = submit(*engine, params({1}, 10));
  engine->step();
  engine->step();
  // a holds 4 tokens, b 2 (prompt + the first token fed back): one block each.
  const MemoryComparison m = engine->live_memory();
  EXPECT_EQ(m.batch_size, 2);
  EXPECT_EQ(m.blocks_used, 2);
  EXPECT_EQ(m.paged_bytes, 2 * 16 * 640);
  EXPECT_EQ(m.traditional_bytes, 2 * 256 * 640);
  EXPECT_EQ(m.saved_bytes, (512 - 32) * 640);
  EXPECT_EQ(m.paged_wasted_tokens, 32 - 6);
  EXPECT_EQ(m.traditional_wasted_tokens, 512 - 6);
  EXPECT_EQ(m.sequence_length, 3);
  EXPECT_EQ(m.kv_bytes_per_token, 640);
  engine->run_until_idle();
}

TEST(ServingEngine, ContiguousReservesAndZeroesAWholeSequence) {
  auto engine = make_engine({"contiguous", 8, KvCacheMode::Contiguous, 64});
  auto a = submit(*engine, params({1}, 10));
  auto b = submit(*engine, params({1, 403}, 10));
  auto c = submit(*engine, params({1, 403, 407}, 10));
  engine->step();
  // 64 tokens = 4 blocks per sequence: two fit the 8-block pool, the third waits though each holds 1-2 tokens.
  EngineMetrics m = engine->metrics();
  EXPECT_EQ(m.running, 2);
  EXPECT_EQ(m.waiting, 1);
  EXPECT_EQ(m.kv_blocks_used, 8);
  const KvSnapshot snap = engine->kv_snapshot();
  ASSERT_EQ(snap.sequences.size(), 2u);
  EXPECT_EQ(snap.sequences[0].num_tokens, 1);  // the tokens really held, not the reservation
  EXPECT_EQ(snap.sequences[0].block_ids.size(), 4u);
  const MemoryComparison live = engine->live_memory();
  EXPECT_EQ(live.paged_bytes, live.traditional_bytes);  // a reservation is max_seq_len
  EXPECT_EQ(live.paged_wasted_tokens, 128 - 3);
  engine->run_until_idle();
  for (auto* h : {&a, &b, &c}) EXPECT_EQ(drain(**h).tokens.at(0).size(), 10u);
  EXPECT_EQ(engine->metrics().preemptions_by_reason.count("kv_cache_full"), 0u);
}

TEST(ServingEngine, EventsIncludePreemption) {
  auto engine = make_engine({"paged_6_blocks", 6});
  std::vector<KvEvent> events;
  const uint64_t sub = engine->subscribe_kv_events([&](const KvEvent& e) { events.push_back(e); });
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (int i = 0; i < 3; ++i) hs.push_back(submit(*engine, params({1}, 60)));  // 4 blocks each
  engine->run_until_idle();
  engine->unsubscribe_kv_events(sub);
  size_t preempts = 0, allocs = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].type == KvEventType::Allocate) ++allocs;
    if (events[i].type != KvEventType::Preempt) continue;
    ++preempts;
    // The Free of the same blocks follows.
    ASSERT_LT(i + 1, events.size());
    EXPECT_EQ(events[i + 1].type, KvEventType::Free);
    EXPECT_EQ(events[i + 1].seq, events[i].seq);
    EXPECT_EQ(events[i + 1].blocks.size(), events[i].blocks.size());
  }
  EXPECT_EQ(preempts, engine->metrics().preemptions_by_reason.at("kv_cache_full"));
  EXPECT_GT(preempts, 0u);
  EXPECT_GT(allocs, 0u);
  const size_t seen = events.size();
  auto h = submit(*engine, params({1}, 3));
  engine->run_until_idle();
  EXPECT_EQ(events.size(), seen);  // unsubscribed
}

TEST(ServingEngine, EngineThreadServesConcurrentClients) {
  auto engine = make_engine({"paged_6_blocks", 6});
  engine->start();
  std::vector<std::shared_ptr<RequestHandle>> hs;
  for (int i = 0; i < 4; ++i) hs.push_back(submit(*engine, params({1}, 40)));
  const std::vector<int32_t> expected = alone({1}, 40);
  for (auto& h : hs) {
    std::vector<int32_t> tokens;
    TokenEvent e;
    FinishKind finish = FinishKind::None;
    while (h->next(e, 5000ms)) {
      if (e.token) tokens.push_back(*e.token);
      if (e.finish != FinishKind::None) finish = e.finish;
    }
    EXPECT_EQ(finish, FinishKind::Length);
    EXPECT_EQ(tokens, expected);
  }
  // Whatever is in flight when the engine stops ends (cancelled if unfinished), and no more is taken.
  auto last = submit(*engine, params({1}, 80));
  engine->stop();
  EXPECT_TRUE(last->finished());
  EXPECT_FALSE(engine->submit(params({1}, 3)));
}

}  // namespace
}  // namespace helix
