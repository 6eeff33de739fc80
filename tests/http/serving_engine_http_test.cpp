// The serving routes over the real engine: stories260K greedy through /v1/completions (whole and streamed)
// equals the golden text, usage counts are exact, a repeated long prompt is served from the prefix cache, and a
// client that disconnects frees its blocks at once (a larger random model makes generation slow enough to
// disconnect in the middle of it).
#include <chrono>
#include <fstream>
#include <set>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/serving_engine.h"
#include "http_test_util.h"
#include "model/model_generator.h"
#include "model/tokenizer_for_model.h"
#include "prometheus_parser.h"
#include "server/chat_prompt.h"
#include "server/routes.h"
#include "serving_test_util.h"
#include "test_util.h"

namespace helix {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Golden {
  std::vector<int32_t> ids;
  std::string text;
};

const Golden& golden() {
  static const Golden g = [] {
    std::ifstream in(test::shared_path("testdata/stories260K-greedy.json"));
    const json j = json::parse(in);
    return Golden{j["ids"].get<std::vector<int32_t>>(), j["text"].get<std::string>()};
  }();
  return g;
}

std::unique_ptr<ServingEngine> make_engine(const std::string& path, int64_t num_blocks, int threads = 1) {
  spdlog::set_level(spdlog::level::warn);  // the engine logs its capacity at info
  test::LoadedModel loaded = test::load_model(path);
  ServingOptions o;
  o.engine.num_blocks = num_blocks;
  o.engine.block_size = 16;
  o.engine.kv_dtype = DType::F32;
  o.engine.threads = threads;
  o.engine.max_seq_len = 512;
  auto engine = ServingEngine::create(std::move(loaded.model), std::move(*loaded.tokenizer), o);
  EXPECT_TRUE(engine) << engine.error().message;
  (*engine)->start();
  return std::move(*engine);
}

// The engine behind a test server with every route.
class RealServing {
 public:
  RealServing(std::unique_ptr<ServingEngine> engine, server::ChatRenderer chat) : engine_(std::move(engine)) {
    options_.chat = std::move(chat);
    options_.served_model_name = "stories260K";
    options_.poll_interval = 10ms;
    server_ = std::make_unique<test::TestServer>(
        server::HttpServerOptions{}, [this](server::HttpServer& s) { server::add_serving_routes(s, *engine_, options_); },
        engine_.get());
  }
  ~RealServing() {
    engine_->stop();
    server_.reset();
  }
  ServingEngine& engine() { return *engine_; }
  httplib::Client client() const { return server_->client(); }

 private:
  std::unique_ptr<ServingEngine> engine_;
  server::ServingRoutesOptions options_;
  std::unique_ptr<test::TestServer> server_;
};

// The model's own chat renderer (stories260K has no template: the plain fallback).
server::ChatRenderer renderer_for(const std::string& path) {
  auto file = open_model_file(path);
  EXPECT_TRUE(file) << file.error().message;
  auto chat = server::chat_renderer_for_model(*file);
  EXPECT_TRUE(chat) << chat.error().message;
  return *chat;
}

std::string stories_path() { return test::shared_path("models/stories260K/stories260K.gguf"); }

RealServing& stories() {
  static RealServing serving(make_engine(stories_path(), 256), renderer_for(stories_path()));
  return serving;
}

// The golden text of the first `n` ids (decoded after BOS, which drops the first piece's leading space).
std::string golden_text(size_t n) {
  const Tokenizer& tok = stories().engine().tokenizer();
  std::vector<int32_t> ids = {tok.bos_id()};
  ids.insert(ids.end(), golden().ids.begin(), golden().ids.begin() + n);
  return tok.decode(ids);
}

json post(httplib::Client& client, const std::string& path, const json& body) {
  auto res = client.Post(path.c_str(), body.dump(), "application/json");
  if (!res) {
    ADD_FAILURE() << "no response";
    return {};
  }
  EXPECT_EQ(res->status, 200) << res->body;
  return test::parse_json(res->body);
}

TEST(ServingEngineHttp, GreedyCompletionIsTheGoldenText) {
  auto client = stories().client();
  const json r = post(client, "/v1/completions", {{"prompt", ""}, {"max_tokens", 60}, {"temperature", 0}});
  ASSERT_TRUE(golden().text.starts_with(golden_text(60)));
  EXPECT_EQ(r["choices"][0]["text"], golden_text(60));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(r["model"], "stories260K");
  EXPECT_EQ(r["usage"]["prompt_tokens"], 1);  // BOS
  EXPECT_EQ(r["usage"]["completion_tokens"], 60);
  EXPECT_EQ(r["usage"]["total_tokens"], 61);
}

TEST(ServingEngineHttp, StreamedGreedyIsTheGoldenTextToo) {
  auto client = stories().client();
  auto res = client.Post("/v1/completions",
                         json({{"prompt", ""}, {"max_tokens", 100}, {"temperature", 0}, {"stream", true},
                               {"stream_options", {{"include_usage", true}}}})
                             .dump(),
                         "application/json");
  ASSERT_TRUE(res);
  std::string text;
  const auto events = test::openai_stream_events(res->body);
  ASSERT_GE(events.size(), 3u);
  for (size_t i = 0; i + 1 < events.size(); ++i) text += events[i]["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, golden_text(100));
  EXPECT_EQ(events[events.size() - 2]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(events.back()["usage"]["completion_tokens"], 100);
}

TEST(ServingEngineHttp, PromptContinuesTheGoldenStory) {
  // The golden text's first 20 ids as the prompt: greedy continues with ids 20.. of the golden run.
  auto client = stories().client();
  std::vector<int32_t> prompt = {stories().engine().tokenizer().bos_id()};
  prompt.insert(prompt.end(), golden().ids.begin(), golden().ids.begin() + 20);
  const json r = post(client, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 30}, {"temperature", 0}});
  const std::string whole = golden_text(50);
  EXPECT_EQ(r["choices"][0]["text"], whole.substr(golden_text(20).size()));
  EXPECT_EQ(r["usage"]["prompt_tokens"], 21);
}

TEST(ServingEngineHttp, StopStringOnRealText) {
  auto client = stories().client();
  const json r = post(client, "/v1/completions",
                      {{"prompt", ""}, {"max_tokens", 100}, {"temperature", 0}, {"stop", {"Lily"}}});
  EXPECT_EQ(r["choices"][0]["text"], "Once upon a time, there was a little girl named ");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
}

TEST(ServingEngineHttp, RepeatedLongPromptHitsThePrefixCache) {
  auto client = stories().client();
  // 1 + 99 tokens: six full blocks of 16 can be reused (a hit stops before the last prompt token).
  std::vector<int32_t> prompt = {stories().engine().tokenizer().bos_id()};
  prompt.insert(prompt.end(), golden().ids.begin(), golden().ids.begin() + 99);
  const json body = {{"prompt", prompt}, {"max_tokens", 4}, {"temperature", 0}};
  const json first = post(client, "/v1/completions", body);
  const json second = post(client, "/v1/completions", body);
  EXPECT_EQ(first["usage"]["prompt_tokens"], 100);
  EXPECT_EQ(second["usage"]["prompt_tokens"], 100);
  const int64_t cached = second["usage"]["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GT(cached, 0);
  EXPECT_LE(cached, 96);
  EXPECT_EQ(cached % 16, 0);
  EXPECT_EQ(second["choices"][0]["text"], first["choices"][0]["text"]);  // the cache changes nothing
  auto metrics = client.Get("/metrics", {{"Accept", "application/json"}});
  ASSERT_TRUE(metrics);
  EXPECT_GE(test::parse_json(metrics->body)["prefix_cache_hit_tokens_total"].get<int64_t>(), cached);
}

TEST(ServingEngineHttp, ChatCompletion) {
  auto client = stories().client();
  const json r = post(client, "/v1/chat/completions",
                      {{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}},
                       {"max_tokens", 20},
                       {"temperature", 0}});
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["choices"][0]["message"]["role"], "assistant");
  // stories260K has no chat template: the plain fallback. The same prompt through /v1/completions (BOS first)
  // gives the same text.
  const std::string rendered = "user: Tell me a story\nassistant:";
  const auto ids = stories().engine().tokenizer().encode(rendered, true, true);
  const json c = post(client, "/v1/completions", {{"prompt", ids}, {"max_tokens", 20}, {"temperature", 0}});
  EXPECT_EQ(r["choices"][0]["message"]["content"], c["choices"][0]["text"]);
  EXPECT_EQ(r["usage"]["prompt_tokens"], ids.size());
}

TEST(ServingEngineHttp, KvEventsFollowARequest) {
  // A fresh engine: no cached prefix blocks from other tests.
  RealServing s(make_engine(stories_path(), 64), renderer_for(stories_path()));
  test::EventReader reader(s.client());
  ASSERT_TRUE(reader.wait_for(": connected\n\n", 2s));
  auto client = s.client();
  // 1 + 40 prompt tokens + 10 generated: 51 tokens in 4 blocks of 16.
  std::vector<int32_t> prompt = {s.engine().tokenizer().bos_id()};
  prompt.insert(prompt.end(), golden().ids.begin(), golden().ids.begin() + 40);
  const json r = post(client, "/v1/completions", {{"prompt", prompt}, {"max_tokens", 10}, {"temperature", 0}});
  EXPECT_EQ(r["usage"]["completion_tokens"], 10);
  ASSERT_TRUE(reader.wait_for("\"type\":\"free\"", 2s)) << reader.raw();
  reader.close();

  std::set<int> allocated, freed;
  int64_t seq = -1;
  uint64_t index = 0;
  for (const std::string& d : test::parse_sse(reader.raw()).data) {
    const json e = test::parse_json(d);
    EXPECT_EQ(e["index"], index++);
    EXPECT_TRUE(e["timestamp"].is_number_integer());
    if (e["type"] == "allocate" || e["type"] == "free") {
      if (seq < 0) seq = e["seq"];
      EXPECT_EQ(e["seq"], seq);
      for (int b : e["blocks"]) (e["type"] == "allocate" ? allocated : freed).insert(b);
    }
  }
  EXPECT_EQ(allocated.size(), 4u);  // ceil(51 / 16)
  EXPECT_EQ(freed, allocated);

  // After it: nothing held, and the full prompt blocks stay findable (cached) in the free queue.
  auto res = client.Get("/kv/blocks");
  ASSERT_TRUE(res);
  const json blocks = test::parse_json(res->body);
  EXPECT_EQ(blocks["used_blocks"], 0);
  EXPECT_EQ(blocks["num_blocks"], 64);
  EXPECT_EQ(blocks["free_blocks"], 64);
  EXPECT_GE(blocks["cached_blocks"], 2);  // the prompt's 41 tokens fill 2 blocks
  EXPECT_EQ(blocks["blocks"].size(), 64u);
  EXPECT_TRUE(blocks["sequences"].empty());
}

TEST(ServingEngineHttp, LiveMemoryAndMetrics) {
  auto client = stories().client();
  post(client, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 5}});
  auto res = client.Get("/compare/memory?source=live");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  const json live = test::parse_json(res->body);
  EXPECT_EQ(live["block_size"], 16);
  EXPECT_EQ(live["num_blocks"], 256);
  EXPECT_EQ(live["max_seq_len"], 512);
  for (const char* f : {"traditional_memory_mb", "paged_memory_mb", "memory_saved_mb", "memory_saved_percent",
                        "blocks_used", "blocks_free", "utilization_percent", "sequence_length"})
    EXPECT_TRUE(live.contains(f)) << f;

  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  const test::Exposition m = test::parse_prometheus(res->body);
  EXPECT_EQ(m.at("helix_kv_blocks_total"), 256);
  EXPECT_GE(m.at("helix_requests_total{outcome=\"finished\"}"), 1);
  EXPECT_GE(m.at("helix_generation_tokens_total"), 5);
  EXPECT_GE(m.at("helix_prompt_tokens_total"), 2);
  for (const char* h : {"helix_time_to_first_token_seconds", "helix_request_latency_seconds"}) {
    const std::string name = h;
    EXPECT_GE(m.at(name + "_count"), 1) << name;
    EXPECT_EQ(m.at(name + "_bucket{le=\"+Inf\"}"), m.at(name + "_count")) << name;
    EXPECT_GT(m.at(name + "_sum"), 0) << name;
  }
}

// A random model big enough that 400 tokens take seconds: a disconnect lands in the middle of generation.
std::string slow_model(const test::TempDir& dir) {
  ModelShape shape;
  shape.name = "slow";
  shape.n_layers = 4;
  shape.n_heads = 8;
  shape.n_kv_heads = 8;
  shape.head_dim = 64;
  shape.hidden_dim = 512;
  shape.ffn_dim = 1536;
  shape.vocab_size = 512;
  shape.context_length = 1024;
  const std::string path = dir.file("slow.gguf");
  GeneratedModelOptions options;
  options.weight_type = DType::Q8_0;
  options.seed = 7;
  auto st = write_random_model(shape, options, path);
  EXPECT_TRUE(st) << st.error().message;
  return path;
}

int64_t used_blocks(httplib::Client& client) {
  auto res = client.Get("/kv/blocks");
  if (!res) return -1;
  return test::parse_json(res->body)["used_blocks"];
}

TEST(ServingEngineHttp, DisconnectFreesTheBlocksAtOnce) {
  test::TempDir dir;
  const std::string slow = slow_model(dir);
  RealServing s(make_engine(slow, 64), renderer_for(slow));
  auto client = s.client();
  EXPECT_EQ(used_blocks(client), 0);

  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.body = json({{"prompt", "Once upon a time"}, {"max_tokens", 400}, {"ignore_eos", true}, {"stream", true}}).dump();
  req.set_header("Content-Type", "application/json");
  int chunks = 0;
  int64_t blocks_while_running = 0;
  auto streaming = s.client();
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    for (size_t i = 0; i + 1 < len; ++i)
      if (data[i] == '\n' && data[i + 1] == '\n') ++chunks;
    if (chunks < 3) return true;
    blocks_while_running = used_blocks(client);
    return false;  // the client goes away
  };
  const auto left = std::chrono::steady_clock::now();
  EXPECT_FALSE(streaming.send(req));
  streaming.stop();
  EXPECT_GE(blocks_while_running, 1);

  // Freed as soon as the engine notices; the full generation would take far longer.
  int64_t used = -1;
  while (std::chrono::steady_clock::now() - left < 5s) {
    used = used_blocks(client);
    if (used == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(used, 0);
  auto metrics = client.Get("/metrics", {{"Accept", "application/json"}});
  ASSERT_TRUE(metrics);
  const json m = test::parse_json(metrics->body);
  EXPECT_EQ(m["requests_total"]["cancelled"], 1);
  EXPECT_LT(m["generation_tokens_total"].get<int64_t>(), 400);
}

}  // namespace
}  // namespace helix
