// GET /metrics: every line of the page is valid Prometheus text format (checked by a small parser written from
// the format's description, not from the writer), the families are all there, and the counters move when
// requests run. The same figures come as JSON with Accept: application/json.
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "prometheus_parser.h"
#include "server/prometheus.h"
#include "serving_test_util.h"

namespace helix {
namespace {

using nlohmann::json;
using test::check_histogram;
using test::Exposition;
using test::parse_prometheus;

TEST(PrometheusWriter, FormatsNumbersAndEscapesLabels) {
  EXPECT_EQ(server::prometheus_number(3), "3");
  EXPECT_EQ(server::prometheus_number(0.25), "0.25");
  EXPECT_EQ(server::prometheus_number(INFINITY), "+Inf");
  EXPECT_EQ(server::prometheus_number(NAN), "NaN");
  EXPECT_EQ(server::prometheus_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  server::PrometheusWriter w;
  w.counter_family("helix_x_total", "X.", {{{{"reason", "odd \"one\"\n"}}, 2}});
  Histogram h;
  h.upper_bounds = {0.5, 1};
  h.counts = {1, 3};
  h.count = 4;
  h.sum = 7.5;
  w.histogram("helix_h_seconds", "H.", h);
  EXPECT_EQ(w.text(),
            "# HELP helix_x_total X.\n# TYPE helix_x_total counter\nhelix_x_total{reason=\"odd \\\"one\\\"\\n\"} 2\n"
            "# HELP helix_h_seconds H.\n# TYPE helix_h_seconds histogram\n"
            "helix_h_seconds_bucket{le=\"0.5\"} 1\nhelix_h_seconds_bucket{le=\"1\"} 3\n"
            "helix_h_seconds_bucket{le=\"+Inf\"} 4\nhelix_h_seconds_sum 7.5\nhelix_h_seconds_count 4\n");
  const Exposition e = parse_prometheus(w.text());
  EXPECT_EQ(e.at("helix_h_seconds_count"), 4);
}

TEST(MetricsRoute, PageParsesAndCountersMove) {
  test::FakeScript script;
  script.tokens = test::stories_tokenizer().encode(" Once upon a time", false);
  test::FakeServing s(script);
  auto client = s.client();

  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), server::kPrometheusContentType);
  const Exposition before = parse_prometheus(res->body);
  const std::map<std::string, std::string> expected_types = {
      {"helix_sequences_running", "gauge"},
      {"helix_sequences_waiting", "gauge"},
      {"helix_kv_blocks_used", "gauge"},
      {"helix_kv_blocks_total", "gauge"},
      {"helix_kv_usage_ratio", "gauge"},
      {"helix_preemptions_total", "counter"},
      {"helix_prefix_cache_queried_tokens_total", "counter"},
      {"helix_prefix_cache_hit_tokens_total", "counter"},
      {"helix_prompt_tokens_total", "counter"},
      {"helix_generation_tokens_total", "counter"},
      {"helix_requests_total", "counter"},
      {"helix_spec_proposed_tokens_total", "counter"},
      {"helix_spec_accepted_tokens_total", "counter"},
      {"helix_spec_verify_steps_total", "counter"},
      {"helix_spec_accepted_per_step_total", "counter"},
      {"helix_draft_kv_blocks_used", "gauge"},
      {"helix_draft_kv_blocks_total", "gauge"},
      {"helix_time_to_first_token_seconds", "histogram"},
      {"helix_time_per_output_token_seconds", "histogram"},
      {"helix_request_latency_seconds", "histogram"},
  };
  for (const auto& [name, type] : expected_types) {
    ASSERT_TRUE(before.families.count(name)) << name;
    EXPECT_EQ(before.families.at(name).type, type) << name;
  }
  EXPECT_EQ(before.families.size(), expected_types.size());
  EXPECT_EQ(before.at("helix_kv_blocks_total"), test::FakeEngine::kNumBlocks);
  EXPECT_EQ(before.at("helix_preemptions_total{reason=\"kv_cache_full\"}"), 0);
  EXPECT_EQ(before.at("helix_requests_total{outcome=\"finished\"}"), 0);
  EXPECT_EQ(before.at("helix_generation_tokens_total"), 0);

  const std::string body = json({{"prompt", "Hello there"}, {"max_tokens", 3}}).dump();
  ASSERT_TRUE(client.Post("/v1/completions", body, "application/json"));
  ASSERT_TRUE(client.Post("/v1/completions", body, "application/json"));
  ASSERT_TRUE(s.engine().wait_idle(std::chrono::seconds(5)));

  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  const Exposition after = parse_prometheus(res->body);
  const double prompt = test::stories_tokenizer().encode("Hello there", true).size();
  EXPECT_EQ(after.at("helix_requests_total{outcome=\"finished\"}"), 2);
  EXPECT_EQ(after.at("helix_requests_total{outcome=\"cancelled\"}"), 0);
  EXPECT_EQ(after.at("helix_prompt_tokens_total"), 2 * prompt);
  EXPECT_EQ(after.at("helix_generation_tokens_total"), 6);
  EXPECT_EQ(after.at("helix_prefix_cache_queried_tokens_total"), 2 * prompt);
  EXPECT_EQ(after.at("helix_request_latency_seconds_count"), 2);
  EXPECT_EQ(after.at("helix_time_to_first_token_seconds_count"), 2);
  EXPECT_EQ(after.at("helix_kv_blocks_used"), 0);
  for (const char* h : {"helix_time_to_first_token_seconds", "helix_time_per_output_token_seconds",
                        "helix_request_latency_seconds"})
    check_histogram(after, h, {"0.001", "0.01", "0.1", "1"});
}

TEST(MetricsRoute, JsonOnRequest) {
  test::FakeScript script;
  script.tokens = {300, 301};
  test::FakeServing s(script);
  auto client = s.client();
  ASSERT_TRUE(client.Post("/v1/completions", R"({"prompt": "Hi", "max_tokens": 2})", "application/json"));
  ASSERT_TRUE(s.engine().wait_idle(std::chrono::seconds(5)));
  auto res = client.Get("/metrics", {{"Accept", "application/json"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const json j = test::parse_json(res->body);
  EXPECT_EQ(j["sequences_running"], 0);
  EXPECT_EQ(j["kv_blocks_total"], test::FakeEngine::kNumBlocks);
  EXPECT_EQ(j["generation_tokens_total"], 2);
  EXPECT_EQ(j["requests_total"]["finished"], 1);
  EXPECT_EQ(j["preemptions_total"]["kv_cache_full"], 0);
  EXPECT_EQ(j["request_latency_seconds"]["count"], 1);
  EXPECT_EQ(j["request_latency_seconds"]["buckets"].size(), 4u);
  EXPECT_EQ(j["request_latency_seconds"]["buckets"][0]["le"], 0.001);
}

}  // namespace
}  // namespace helix
