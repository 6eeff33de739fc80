// GET /kv/blocks, GET /kv/events and GET /compare/memory?source=live against a FakeEngine; KvEventQueue alone.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "server/kv_event_queue.h"
#include "serving_test_util.h"

namespace helix {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

test::FakeScript slow_script() {
  test::FakeScript s;
  s.tokens = test::stories_tokenizer().encode(" Once upon a time, there was a little girl named Lily.", false);
  s.token_interval = 30ms;
  return s;
}

TEST(KvRoutes, BlocksShowARunningRequest) {
  test::FakeServing s(slow_script());
  std::thread request([&] {
    auto client = s.client();
    client.Post("/v1/completions", R"({"prompt": "Once upon a time there was", "max_tokens": 5})", "application/json");
  });
  while (s.engine().running_count() == 0) std::this_thread::sleep_for(1ms);
  auto client = s.client();
  auto res = client.Get("/kv/blocks");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json j = test::parse_json(res->body);
  request.join();

  EXPECT_EQ(j["block_size"], 16);
  EXPECT_EQ(j["num_blocks"], test::FakeEngine::kNumBlocks);
  EXPECT_EQ(j["used_blocks"].get<int>() + j["free_blocks"].get<int>(), test::FakeEngine::kNumBlocks);
  EXPECT_GE(j["used_blocks"], 1);
  EXPECT_DOUBLE_EQ(j["usage"].get<double>(), j["used_blocks"].get<double>() / test::FakeEngine::kNumBlocks);
  for (const char* f : {"lookups", "queried_tokens", "hit_tokens"}) EXPECT_TRUE(j["prefix_cache"][f].is_number());
  ASSERT_EQ(j["blocks"].size(), static_cast<size_t>(test::FakeEngine::kNumBlocks));
  const json& b0 = j["blocks"][0];
  for (const char* f : {"id", "ref_count", "tokens_filled", "cached", "free", "owners"}) EXPECT_TRUE(b0.contains(f)) << f;
  EXPECT_EQ(b0["id"], 0);
  EXPECT_EQ(b0["ref_count"], 1);
  EXPECT_FALSE(b0["free"].get<bool>());
  ASSERT_EQ(j["sequences"].size(), 1u);
  const json& q = j["sequences"][0];
  EXPECT_EQ(b0["owners"], json::array({q["seq"]}));
  EXPECT_EQ(q["block_ids"].size(), j["used_blocks"].get<size_t>());
  for (const char* f : {"seq", "num_tokens", "last_block_fill", "num_cached_blocks", "block_ids"})
    EXPECT_TRUE(q.contains(f)) << f;
  EXPECT_EQ(j["free_queue"].size(), j["free_blocks"].get<size_t>());
}

TEST(KvRoutes, EventsStreamAllocationsAndFrees) {
  test::FakeServing s(slow_script());
  test::EventReader reader(s.client());
  ASSERT_TRUE(reader.wait_for(": connected\n\n", 2s));
  EXPECT_EQ(s.engine().subscriber_count(), 1u);
  const auto t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto client = s.client();
  ASSERT_TRUE(client.Post("/v1/completions", R"({"prompt": "Hi", "max_tokens": 3})", "application/json"));
  ASSERT_TRUE(reader.wait_for("\"type\":\"free\"", 2s)) << reader.raw();
  reader.close();

  const test::SseBody sse = test::parse_sse(reader.raw());
  EXPECT_EQ(sse.comments.front(), "connected");
  ASSERT_GE(sse.data.size(), 2u);
  uint64_t index = 0;
  std::set<int> allocated;
  for (const std::string& d : sse.data) {
    const json e = test::parse_json(d);
    EXPECT_EQ(e.size(), 5u) << e;
    EXPECT_EQ(e["index"], index++);
    EXPECT_TRUE(e["seq"].is_number_integer());
    EXPECT_GE(e["timestamp"].get<int64_t>(), t0);
    ASSERT_TRUE(e["blocks"].is_array());
    if (e["type"] == "allocate") {
      for (int b : e["blocks"]) allocated.insert(b);
    } else {
      EXPECT_EQ(e["type"], "free");
      std::set<int> freed(e["blocks"].begin(), e["blocks"].end());
      EXPECT_EQ(freed, allocated);  // the request gives back exactly what it took
    }
  }
  EXPECT_EQ(test::parse_json(sse.data.back())["type"], "free");
  // The subscription ends with the connection.
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (s.engine().subscriber_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(s.engine().subscriber_count(), 0u);
}

TEST(KvRoutes, IdleEventStreamSendsKeepAlives) {
  auto options = test::FakeServing::default_options();
  options.kv_events_keepalive = 50ms;
  test::FakeServing s(slow_script(), options);
  test::EventReader reader(s.client());
  ASSERT_TRUE(reader.wait_for(": keep-alive\n\n: keep-alive\n\n", 3s)) << reader.raw();
  reader.close();
  const test::SseBody sse = test::parse_sse(reader.raw());
  EXPECT_TRUE(sse.data.empty());
}

TEST(KvEventQueue, DropsTheOldestPastItsCapacity) {
  server::KvEventQueue queue(3);
  for (int i = 0; i < 5; ++i) queue.push(KvEvent{KvEventType::Allocate, SeqId{i}, {BlockId{i}}});
  std::vector<server::TimedKvEvent> out;
  EXPECT_EQ(queue.pop_all(out, 0ms), 2u);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].event.seq.value, 2);
  EXPECT_EQ(out[2].event.seq.value, 4);
  EXPECT_GT(out[0].timestamp_ms, 0);
  out.clear();
  EXPECT_EQ(queue.pop_all(out, 1ms), 0u);  // nothing new: waits, then returns empty
  EXPECT_TRUE(out.empty());
}

TEST(KvRoutes, LiveMemoryComparison) {
  test::FakeServing s(slow_script());
  auto client = s.client();
  auto res = client.Get("/compare/memory?source=live");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  const json j = test::parse_json(res->body);
  // The engine's figures (the fake's: 2 sequences of 40 tokens, blocks of 16 in a pool of 64, max_seq_len 512).
  EXPECT_EQ(j["sequence_length"], 40);
  EXPECT_EQ(j["block_size"], 16);
  EXPECT_EQ(j["num_blocks"], 64);
  EXPECT_EQ(j["blocks_used"], 6);  // 2 * ceil(40 / 16)
  EXPECT_EQ(j["blocks_free"], 58);
  EXPECT_EQ(j["utilization_percent"], 9.38);  // 100 * 6 / 64 = 9.375, to 2 decimals
  for (const char* f : {"traditional_memory_mb", "paged_memory_mb", "memory_saved_mb", "memory_saved_percent"})
    EXPECT_TRUE(j[f].is_number()) << f;
  // Theory still works beside it; theory parameters with live are refused.
  EXPECT_EQ(client.Get("/compare/memory")->status, 200);
  res = client.Get("/compare/memory?source=live&block_size=32");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(test::parse_json(res->body)["error"]["param"], "block_size");
}

TEST(KvRoutes, HealthSaysAModelIsLoaded) {
  test::FakeServing s(slow_script());
  auto res = s.client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json j = test::parse_json(res->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["model_loaded"], true);
}

TEST(KvRoutes, NotServedWithoutAnEngine) {
  test::TestServer server;
  auto client = server.client();
  for (const char* path : {"/kv/blocks", "/kv/events", "/metrics", "/v1/models"}) {
    auto res = client.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << path;
  }
  EXPECT_EQ(client.Get("/compare/memory?source=live")->status, 422);
}

}  // namespace
}  // namespace helix
