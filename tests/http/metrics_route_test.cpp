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

#include "serving_test_util.h"
#include "server/prometheus.h"

namespace helix {
namespace {

using nlohmann::json;

struct Family {
  std::string type;
  bool has_help = false;
};

// Samples keyed by name + label text ("helix_requests_total{outcome=\"finished\"}").
struct Exposition {
  std::map<std::string, Family> families;
  std::map<std::string, double> samples;
  double at(const std::string& key) const {
    auto it = samples.find(key);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample " << key;
      return NAN;
    }
    return it->second;
  }
};

bool parse_value(const std::string& text, double& out) {
  if (text == "+Inf" || text == "Inf") return out = INFINITY, true;
  if (text == "-Inf") return out = -INFINITY, true;
  if (text == "NaN") return out = NAN, true;
  static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(text, number)) return false;
  out = std::stod(text);
  return true;
}

// The family a sample belongs to: histograms add _bucket, _sum and _count to the family name.
std::string family_of(const std::string& name, const std::map<std::string, Family>& families) {
  if (families.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && it->second.type == "histogram") return base;
    }
  }
  return {};
}

Exposition parse_prometheus(const std::string& text) {
  Exposition e;
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the page must end with a newline";
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*))");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*)?\})? (\S+))");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      Family& f = e.families[m[1]];
      EXPECT_FALSE(f.has_help) << "line " << n << ": second HELP for " << m[1];
      EXPECT_TRUE(f.type.empty()) << "line " << n << ": HELP after TYPE for " << m[1];
      f.has_help = true;
    } else if (std::regex_match(line, m, type)) {
      Family& f = e.families[m[1]];
      EXPECT_TRUE(f.type.empty()) << "line " << n << ": second TYPE for " << m[1];
      f.type = m[2];
      if (f.type == "counter") {
        EXPECT_TRUE(std::string(m[1]).ends_with("_total")) << m[1];
      }
    } else if (std::regex_match(line, m, sample)) {
      const std::string name = m[1];
      const std::string fam = family_of(name, e.families);
      EXPECT_FALSE(fam.empty()) << "line " << n << ": sample before its TYPE: " << line;
      double value = 0;
      EXPECT_TRUE(parse_value(m[7], value)) << "line " << n << ": bad value: " << line;
      const std::string key = name + std::string(m[2]);
      EXPECT_EQ(e.samples.count(key), 0u) << "line " << n << ": duplicate series " << key;
      e.samples[key] = value;
    } else {
      ADD_FAILURE() << "line " << n << " is not Prometheus text format: '" << line << "'";
    }
  }
  for (const auto& [name, f] : e.families) {
    EXPECT_TRUE(f.has_help) << name << " has no HELP";
    EXPECT_FALSE(f.type.empty()) << name << " has no TYPE";
    EXPECT_EQ(name.rfind("helix_", 0), 0u) << name;
  }
  return e;
}

// A histogram's buckets are cumulative and end with le="+Inf" equal to _count.
void check_histogram(const Exposition& e, const std::string& name, const std::vector<std::string>& bounds) {
  double prev = 0;
  for (const std::string& le : bounds) {
    const double v = e.at(name + "_bucket{le=\"" + le + "\"}");
    EXPECT_GE(v, prev) << name << " le=" << le;
    prev = v;
  }
  const double inf = e.at(name + "_bucket{le=\"+Inf\"}");
  EXPECT_GE(inf, prev);
  EXPECT_EQ(inf, e.at(name + "_count"));
  EXPECT_GE(e.at(name + "_sum"), 0);
}

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
