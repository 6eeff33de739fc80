// GET /compare/memory over real HTTP: every field, exact figures for hand-computed cases, and every kind
// of bad input answered 400/422 with the parameter named.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http_test_util.h"

namespace helix {
namespace {

using nlohmann::json;

class CompareMemoryRoute : public ::testing::Test {
 protected:
  json get_ok(const std::string& query) {
    auto res = client_.Get(("/compare/memory" + query).c_str());
    if (!res) {
      ADD_FAILURE() << "no response for " << query;
      return {};
    }
    EXPECT_EQ(res->status, 200) << query << " -> " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return test::parse_json(res->body);
  }

  // Expects an error with `status` naming `param`.
  void expect_error(const std::string& query, int status, const std::string& param) {
    auto res = client_.Get(("/compare/memory" + query).c_str());
    ASSERT_TRUE(res) << query;
    EXPECT_EQ(res->status, status) << query << " -> " << res->body;
    const json body = test::parse_json(res->body);
    ASSERT_TRUE(body.contains("error")) << res->body;
    EXPECT_EQ(body["error"]["param"], param) << query << " -> " << res->body;
    EXPECT_EQ(body["error"]["type"], "invalid_request_error");
    EXPECT_TRUE(body["error"]["code"].is_null());
    EXPECT_TRUE(body["error"]["message"].is_string());
  }

  test::TestServer server_;
  httplib::Client client_ = server_.client();
};

TEST_F(CompareMemoryRoute, EveryFieldHasItsJsonType) {
  const json j = get_ok("");
  const std::vector<std::string> numbers = {"traditional_memory_mb", "paged_memory_mb", "memory_saved_mb",
                                            "memory_saved_percent", "utilization_percent", "pool_memory_mb"};
  const std::vector<std::string> integers = {
      "num_blocks", "block_size", "blocks_used", "blocks_free", "sequence_length", "max_seq_len", "batch_size",
      "kv_bytes_per_token", "traditional_bytes", "paged_bytes", "memory_saved_bytes", "pool_bytes", "pool_tokens",
      "traditional_wasted_tokens", "paged_wasted_tokens", "sequences_fit_traditional", "sequences_fit_paged"};
  for (const auto& f : numbers) EXPECT_TRUE(j.contains(f) && j[f].is_number()) << f;
  for (const auto& f : integers) EXPECT_TRUE(j.contains(f) && j[f].is_number_integer()) << f;
  EXPECT_TRUE(j["model"].is_string());
  EXPECT_TRUE(j["kv_dtype"].is_string());
  EXPECT_EQ(j.size(), numbers.size() + integers.size() + 2) << j.dump();
}

TEST_F(CompareMemoryRoute, ReferenceCaseWithDefaults) {
  // design NOTES.md section 1: TinyLlama, 22 * 2 * 4 * 64 * 2 = 22,528 B per token.
  // traditional 2048 * 22,528 = 46,137,344 B = 44.00 MiB; paged ceil(128/16) = 8 blocks * 16 * 22,528
  // = 2,883,584 B = 2.75 MiB; saved 41.25 MiB = 93.75 %; 1024 - 8 = 1016 free; 8/1024 = 0.78125 %.
  const json j = get_ok("");
  EXPECT_EQ(j["traditional_memory_mb"], 44.00);
  EXPECT_EQ(j["paged_memory_mb"], 2.75);
  EXPECT_EQ(j["memory_saved_mb"], 41.25);
  EXPECT_EQ(j["memory_saved_percent"], 93.75);
  EXPECT_EQ(j["num_blocks"], 1024);
  EXPECT_EQ(j["block_size"], 16);
  EXPECT_EQ(j["blocks_used"], 8);
  EXPECT_EQ(j["blocks_free"], 1016);
  EXPECT_EQ(j["utilization_percent"], 0.78);
  EXPECT_EQ(j["sequence_length"], 128);
  EXPECT_EQ(j["model"], "tinyllama-1.1b");
  EXPECT_EQ(j["kv_dtype"], "f16");
  EXPECT_EQ(j["max_seq_len"], 2048);
  EXPECT_EQ(j["kv_bytes_per_token"], 22528);
  EXPECT_EQ(j["traditional_bytes"], 46137344);
  EXPECT_EQ(j["paged_bytes"], 2883584);
  EXPECT_EQ(j["memory_saved_bytes"], 43253760);
  EXPECT_EQ(j["pool_bytes"], 369098752);  // 1024 * 16 * 22,528
  EXPECT_EQ(j["pool_memory_mb"], 352.00);
  EXPECT_EQ(j["pool_tokens"], 16384);
  EXPECT_EQ(j["traditional_wasted_tokens"], 1920);  // 2048 - 128
  EXPECT_EQ(j["paged_wasted_tokens"], 0);           // 128 fills 8 blocks exactly
  EXPECT_EQ(j["sequences_fit_traditional"], 8);     // 369,098,752 / 46,137,344
  EXPECT_EQ(j["sequences_fit_paged"], 128);         // 1024 / 8
}

TEST_F(CompareMemoryRoute, ExplicitDefaultsGiveTheReferenceToo) {
  EXPECT_EQ(get_ok("?model=tinyllama-1.1b&sequence_length=128&max_seq_len=2048&block_size=16&num_blocks=1024"
                   "&batch_size=1&kv_dtype=f16&source=theory"),
            get_ok(""));
}

TEST_F(CompareMemoryRoute, Llama2Batch4Q8Block32Length100) {
  // Llama-2-7B: 32 layers * 2 * 32 KV heads * 128 = 262,144 values; q8_0 = 34 B per 32 -> 278,528 B/token.
  // traditional 4 * 4096 * 278,528 = 4,563,402,752 B = 4352.00 MiB.
  // blocks 4 * ceil(100/32) = 4 * 4 = 16; paged 16 * 32 * 278,528 = 142,606,336 B = 136.00 MiB.
  // saved 4216.00 MiB = 4216/4352 = 96.875 % -> 96.88; util 16/1024 = 1.5625 % -> 1.56.
  // pool 1024 * 32 * 278,528 = 9,126,805,504 B = 8704 MiB; fits 32768/4096 = 8 vs 1024/4 = 256.
  const json j = get_ok("?model=llama-2-7b&batch_size=4&kv_dtype=q8_0&block_size=32&sequence_length=100");
  EXPECT_EQ(j["kv_bytes_per_token"], 278528);
  EXPECT_EQ(j["max_seq_len"], 4096);
  EXPECT_EQ(j["traditional_bytes"], 4563402752);
  EXPECT_EQ(j["traditional_memory_mb"], 4352.00);
  EXPECT_EQ(j["blocks_used"], 16);
  EXPECT_EQ(j["blocks_free"], 1008);
  EXPECT_EQ(j["paged_bytes"], 142606336);
  EXPECT_EQ(j["paged_memory_mb"], 136.00);
  EXPECT_EQ(j["memory_saved_mb"], 4216.00);
  EXPECT_EQ(j["memory_saved_percent"], 96.88);
  EXPECT_EQ(j["utilization_percent"], 1.56);
  EXPECT_EQ(j["pool_bytes"], 9126805504);
  EXPECT_EQ(j["pool_memory_mb"], 8704.00);
  EXPECT_EQ(j["pool_tokens"], 32768);
  EXPECT_EQ(j["traditional_wasted_tokens"], 15984);  // 4 * (4096 - 100)
  EXPECT_EQ(j["paged_wasted_tokens"], 112);          // 4 * (4 * 32 - 100)
  EXPECT_EQ(j["sequences_fit_traditional"], 8);
  EXPECT_EQ(j["sequences_fit_paged"], 256);
  EXPECT_EQ(j["kv_dtype"], "q8_0");
  EXPECT_EQ(j["batch_size"], 4);
}

TEST_F(CompareMemoryRoute, Llama3Batch2Length1000) {
  // Llama-3-8B: 32 * 2 * 8 * 128 * 2 B = 131,072 B/token. traditional 2 * 4096 * 131,072 = 1,073,741,824 B
  // = 1024.00 MiB. blocks 2 * ceil(1000/16) = 2 * 63 = 126; paged 126 * 16 * 131,072 = 264,241,152 B
  // = 252.00 MiB. saved 772.00 MiB = 772/1024 = 75.390625 % -> 75.39. util 126/2048 = 6.15234375 % -> 6.15.
  // pool 2048 * 16 * 131,072 = 4 GiB = 4096.00 MiB; fits 32768/4096 = 8 vs 2048/63 = 32.
  const json j = get_ok("?model=llama-3-8b&sequence_length=1000&max_seq_len=4096&num_blocks=2048&batch_size=2");
  EXPECT_EQ(j["kv_bytes_per_token"], 131072);
  EXPECT_EQ(j["traditional_bytes"], 1073741824);
  EXPECT_EQ(j["traditional_memory_mb"], 1024.00);
  EXPECT_EQ(j["blocks_used"], 126);
  EXPECT_EQ(j["blocks_free"], 1922);
  EXPECT_EQ(j["paged_bytes"], 264241152);
  EXPECT_EQ(j["paged_memory_mb"], 252.00);
  EXPECT_EQ(j["memory_saved_bytes"], 809500672);
  EXPECT_EQ(j["memory_saved_mb"], 772.00);
  EXPECT_EQ(j["memory_saved_percent"], 75.39);
  EXPECT_EQ(j["utilization_percent"], 6.15);
  EXPECT_EQ(j["pool_memory_mb"], 4096.00);
  EXPECT_EQ(j["traditional_wasted_tokens"], 6192);  // 2 * (4096 - 1000)
  EXPECT_EQ(j["paged_wasted_tokens"], 16);          // 2 * (63 * 16 - 1000)
  EXPECT_EQ(j["sequences_fit_traditional"], 8);
  EXPECT_EQ(j["sequences_fit_paged"], 32);
}

TEST_F(CompareMemoryRoute, SmolLM2FullContextFillsThePool) {
  // SmolLM2-135M, bf16: 30 * 2 * 3 * 64 * 2 B = 23,040 B/token. 8192 tokens (its whole context) in blocks of
  // 128 = 64 blocks = the pool: paged = traditional = 8192 * 23,040 = 188,743,680 B = 180.00 MiB, nothing saved.
  const json j = get_ok("?model=smollm2-135m&kv_dtype=bf16&sequence_length=8192&block_size=128&num_blocks=64");
  EXPECT_EQ(j["kv_bytes_per_token"], 23040);
  EXPECT_EQ(j["traditional_bytes"], 188743680);
  EXPECT_EQ(j["paged_bytes"], 188743680);
  EXPECT_EQ(j["traditional_memory_mb"], 180.00);
  EXPECT_EQ(j["paged_memory_mb"], 180.00);
  EXPECT_EQ(j["memory_saved_mb"], 0.0);
  EXPECT_EQ(j["memory_saved_percent"], 0.0);
  EXPECT_EQ(j["blocks_used"], 64);
  EXPECT_EQ(j["blocks_free"], 0);
  EXPECT_EQ(j["utilization_percent"], 100.0);
  EXPECT_EQ(j["sequences_fit_traditional"], 1);
  EXPECT_EQ(j["sequences_fit_paged"], 1);
}

TEST_F(CompareMemoryRoute, Stories260kF32OneTokenRoundsToTwoDecimals) {
  // stories260K, f32: 5 * 2 * 4 * 8 * 4 B = 1,280 B/token. traditional 512 * 1,280 = 655,360 B = 0.625 MiB
  // -> 0.63; paged one block 16 * 1,280 = 20,480 B = 0.01953 MiB -> 0.02; saved 634,880 B = 0.60547 MiB
  // -> 0.61 = 96.875 % -> 96.88. One block of a one-block pool: 100 %. Pool bytes 20,480 hold no
  // contiguous sequence (20,480 / 655,360 = 0).
  const json j = get_ok("?model=stories260k&kv_dtype=f32&sequence_length=1&num_blocks=1");
  EXPECT_EQ(j["kv_bytes_per_token"], 1280);
  EXPECT_EQ(j["traditional_bytes"], 655360);
  EXPECT_EQ(j["traditional_memory_mb"], 0.63);
  EXPECT_EQ(j["paged_bytes"], 20480);
  EXPECT_EQ(j["paged_memory_mb"], 0.02);
  EXPECT_EQ(j["memory_saved_mb"], 0.61);
  EXPECT_EQ(j["memory_saved_percent"], 96.88);
  EXPECT_EQ(j["utilization_percent"], 100.0);
  EXPECT_EQ(j["traditional_wasted_tokens"], 511);
  EXPECT_EQ(j["paged_wasted_tokens"], 15);
  EXPECT_EQ(j["sequences_fit_traditional"], 0);
  EXPECT_EQ(j["sequences_fit_paged"], 1);
}

TEST_F(CompareMemoryRoute, ShortMaxSeqLenMakesPagingCostMore) {
  // Mistral-7B: 32 * 2 * 8 * 128 * 2 B = 131,072 B/token. max_seq_len 10: traditional 3 * 10 * 131,072
  // = 3,932,160 B = 3.75 MiB; paged rounds each sequence up to a 16-token block: 3 * 16 * 131,072 = 6,291,456 B
  // = 6.00 MiB. saved = -2,359,296 B = -2.25 MiB = -60 %. util 3/8 = 37.5 %.
  const json j = get_ok("?model=mistral-7b&sequence_length=10&max_seq_len=10&num_blocks=8&batch_size=3");
  EXPECT_EQ(j["traditional_memory_mb"], 3.75);
  EXPECT_EQ(j["paged_memory_mb"], 6.00);
  EXPECT_EQ(j["memory_saved_bytes"], -2359296);
  EXPECT_EQ(j["memory_saved_mb"], -2.25);
  EXPECT_EQ(j["memory_saved_percent"], -60.0);
  EXPECT_EQ(j["utilization_percent"], 37.5);
  EXPECT_EQ(j["blocks_free"], 5);
  EXPECT_EQ(j["paged_wasted_tokens"], 18);       // 3 * (16 - 10)
  EXPECT_EQ(j["sequences_fit_traditional"], 12);  // 16 MiB pool / 1.25 MiB per sequence
  EXPECT_EQ(j["sequences_fit_paged"], 8);
}

TEST_F(CompareMemoryRoute, UnparsableValuesAre400) {
  expect_error("?sequence_length=abc", 400, "sequence_length");
  expect_error("?sequence_length=12abc", 400, "sequence_length");
  expect_error("?sequence_length=1e3", 400, "sequence_length");
  expect_error("?sequence_length=%205", 400, "sequence_length");  // " 5"
  expect_error("?sequence_length=5%20", 400, "sequence_length");  // "5 "
  expect_error("?sequence_length=+5", 400, "sequence_length");    // '+' is a space in a query
  expect_error("?sequence_length=%2B5", 400, "sequence_length");  // a real '+'
  expect_error("?sequence_length=", 400, "sequence_length");
  expect_error("?sequence_length", 400, "sequence_length");
  expect_error("?sequence_length=12.0", 400, "sequence_length");
  expect_error("?sequence_length=0x10", 400, "sequence_length");
  expect_error("?block_size=--1", 400, "block_size");
  expect_error("?num_blocks=99999999999999999999999", 400, "num_blocks");  // over int64
  expect_error("?batch_size=-9223372036854775809", 400, "batch_size");     // under int64
  expect_error("?max_seq_len=%E4%BA%8C", 400, "max_seq_len");              // a CJK numeral
  expect_error("?model=%zz", 400, "model");                                // broken percent-encoding
  expect_error("?model=a=b", 400, "model");
  expect_error("?source=measured", 400, "source");
  expect_error("?source=", 400, "source");
}

TEST_F(CompareMemoryRoute, InvalidValuesAre422) {
  expect_error("?sequence_length=0", 422, "sequence_length");
  expect_error("?sequence_length=-5", 422, "sequence_length");
  expect_error("?block_size=0", 422, "block_size");
  expect_error("?block_size=-16", 422, "block_size");
  expect_error("?block_size=4097", 422, "block_size");
  expect_error("?num_blocks=0", 422, "num_blocks");
  expect_error("?batch_size=0", 422, "batch_size");
  expect_error("?batch_size=9223372036854775807", 422, "batch_size");
  expect_error("?max_seq_len=-1", 422, "max_seq_len");
  // Over the model context: TinyLlama has 2048 tokens.
  expect_error("?sequence_length=2049", 422, "sequence_length");
  expect_error("?max_seq_len=4096", 422, "max_seq_len");
  expect_error("?sequence_length=600&max_seq_len=512", 422, "sequence_length");
  expect_error("?max_seq_len=100", 422, "max_seq_len");  // shorter than the default 128 tokens
  expect_error("?sequence_length=9223372036854775807", 422, "sequence_length");
  // More blocks than the pool: 128 tokens need 8 blocks of 16; 3 * 8 = 24 > 16.
  expect_error("?num_blocks=7", 422, "num_blocks");
  expect_error("?num_blocks=16&batch_size=3", 422, "num_blocks");
  expect_error("?model=gpt-5", 422, "model");
  expect_error("?model=", 422, "model");
  expect_error("?model=%C3%B1and%C3%BA", 422, "model");  // unicode
  expect_error("?model=%FF%FE", 422, "model");           // not UTF-8: the body must still be JSON
  expect_error("?model=..%2F..%2Fetc%2Fpasswd", 422, "model");
  expect_error("?kv_dtype=int3", 422, "kv_dtype");
  expect_error("?kv_dtype=q4_0", 422, "kv_dtype");  // a weight type, not a KV cache type
  expect_error("?source=live", 422, "source");
}

TEST_F(CompareMemoryRoute, LiveSourceSaysWhatItNeeds) {
  auto res = client_.Get("/compare/memory?source=live");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422);
  EXPECT_NE(test::parse_json(res->body)["error"]["message"].get<std::string>().find("helix serve -m FILE"),
            std::string::npos);
}

TEST_F(CompareMemoryRoute, UnknownAndRepeatedParametersAre400) {
  expect_error("?foo=1", 400, "foo");
  expect_error("?seq_len=128", 400, "seq_len");
  expect_error("?Model=llama-2-7b", 400, "Model");  // names are case-sensitive
  expect_error("?block_size=16&block_size=32", 400, "block_size");
  expect_error("?model=llama-2-7b&model=llama-2-7b", 400, "model");

  auto res = client_.Get("/compare/memory?foo=1&bar=2");
  ASSERT_TRUE(res);
  const std::string message = test::parse_json(res->body)["error"]["message"];
  EXPECT_NE(message.find("'foo'"), std::string::npos) << message;
  EXPECT_NE(message.find("'bar'"), std::string::npos) << message;
}

TEST_F(CompareMemoryRoute, NoInputCrashesIt) {
  // Each value in each parameter: the answer is 200, 400 or 422, always JSON, errors naming the parameter.
  const std::vector<std::string> values = {
      "", "0", "-0", "1", "-1", "2048", "4096", "65536", "16777216", "16777217", "2147483648",
      "9223372036854775807", "-9223372036854775808", "18446744073709551616", std::string(5000, '9'), "%00",
      "%F0%9F%A6%84", "%C0%AF", "abc", "1%2C2", "%25", "null", "%5B1%5D", "f16", "q8_0", "tinyllama-1.1b"};
  for (const char* param : {"model", "sequence_length", "max_seq_len", "block_size", "num_blocks", "batch_size",
                            "kv_dtype", "source"}) {
    for (const auto& v : values) {
      const std::string query = std::string("?") + param + "=" + v;
      auto res = client_.Get(("/compare/memory" + query).c_str());
      ASSERT_TRUE(res) << query;
      const json body = test::parse_json(res->body);
      if (res->status == 200) {
        EXPECT_TRUE(body.contains("paged_memory_mb")) << query;
      } else {
        EXPECT_TRUE(res->status == 400 || res->status == 422) << query << " -> " << res->status;
        // A big batch is valid on its own but needs more blocks than the default pool.
        const bool pool_too_small = std::string(param) == "batch_size" && body["error"]["param"] == "num_blocks";
        if (!pool_too_small) {
          EXPECT_EQ(body["error"]["param"], param) << query << " -> " << res->body;
        }
      }
    }
  }
}

}  // namespace
}  // namespace helix
