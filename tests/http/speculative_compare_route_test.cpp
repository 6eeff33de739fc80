// GET /compare/speculative over the real engine (stories260K), /v1/completions on a server that speculates,
// the speculation counters in /metrics and the draft pool in /kv/blocks.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/serving_engine.h"
#include "http_test_util.h"
#include "model/tokenizer_for_model.h"
#include "prometheus_parser.h"
#include "server/chat_prompt.h"
#include "server/routes.h"
#include "test_util.h"

namespace helix {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string stories_path() { return test::shared_path("models/stories260K/stories260K.bin"); }

std::unique_ptr<ServingEngine> make_engine(SpecMethod method, bool with_draft) {
  spdlog::set_level(spdlog::level::warn);
  test::LoadedModel loaded = test::load_model(stories_path());
  ServingOptions o;
  o.engine.num_blocks = 256;
  o.engine.block_size = 16;
  o.engine.kv_dtype = DType::F32;
  o.engine.threads = 1;
  o.spec_method = method;
  o.spec_tokens = 4;
  std::unique_ptr<Transformer> draft;
  if (with_draft) draft = std::move(*Transformer::load(stories_path()));
  auto engine = ServingEngine::create(std::move(loaded.model), std::move(*loaded.tokenizer), o, std::move(draft));
  EXPECT_TRUE(engine) << engine.error().message;
  (*engine)->start();
  return std::move(*engine);
}

// A model behind every route, as `helix serve -m` sets them up.
class Serving {
 public:
  explicit Serving(std::unique_ptr<ServingEngine> engine) : engine_(std::move(engine)) {
    options_.served_model_name = "stories260K";
    options_.poll_interval = 10ms;
    auto file = open_model_file(stories_path());
    options_.chat = *server::chat_renderer_for_model(*file);
    server_ = std::make_unique<test::TestServer>(
        server::HttpServerOptions{}, [this](server::HttpServer& s) { server::add_serving_routes(s, *engine_, options_); },
        engine_.get());
  }
  ~Serving() {
    engine_->stop();
    server_.reset();
  }
  httplib::Client client() const { return server_->client(); }

 private:
  std::unique_ptr<ServingEngine> engine_;
  server::ServingRoutesOptions options_;
  std::unique_ptr<test::TestServer> server_;
};

Serving& plain() {
  static Serving s(make_engine(SpecMethod::None, false));
  return s;
}
Serving& ngram() {
  static Serving s(make_engine(SpecMethod::Ngram, false));
  return s;
}
Serving& draft() {
  static Serving s(make_engine(SpecMethod::Draft, true));
  return s;
}

json get_json(const Serving& s, const std::string& target, int status = 200) {
  auto client = s.client();
  auto res = client.Get(target.c_str());
  if (!res) {
    ADD_FAILURE() << "no response to " << target;
    return {};
  }
  EXPECT_EQ(res->status, status) << target << ": " << res->body;
  return test::parse_json(res->body);
}

// The contract's invariants between the fields.
void expect_consistent(const json& r, const std::string& method, int64_t k) {
  EXPECT_EQ(r["model"], "stories260K");
  EXPECT_EQ(r["method"], method);
  EXPECT_EQ(r["spec_tokens"], k);
  EXPECT_TRUE(r["identical"].get<bool>());
  const json& base = r["baseline"];
  const json& spec = r["speculative"];
  const int64_t generated = spec["generated_tokens"];
  EXPECT_EQ(base["generated_tokens"], generated);
  EXPECT_EQ(r["tokens"].size(), static_cast<size_t>(generated));
  EXPECT_EQ(base["target_forwards"], generated);  // one forward per token (the prompt's gives the first)
  EXPECT_EQ(r["forwards_saved"], base["target_forwards"].get<int64_t>() - spec["target_forwards"].get<int64_t>());
  const std::vector<int64_t> hist = r["accepted_histogram"];
  ASSERT_EQ(hist.size(), static_cast<size_t>(k) + 1);
  int64_t steps = 0, accepted = 0;
  for (size_t n = 0; n < hist.size(); ++n) {
    steps += hist[n];
    accepted += static_cast<int64_t>(n) * hist[n];
  }
  EXPECT_EQ(accepted, spec["accepted"]);
  // Forwards: the prompt's, then one per verification step (every decode step verifies here: K <= tokens left
  // keeps drafting until the last token, whose step has no room for drafts).
  int64_t drafts = 0;
  for (const json& t : r["tokens"]) drafts += t["source"] == "draft" ? 1 : 0;
  EXPECT_EQ(drafts, accepted);
  EXPECT_EQ(r["tokens"][0]["source"], "target");
  const double proposed = spec["proposed"];
  EXPECT_DOUBLE_EQ(r["acceptance_rate"].get<double>(), proposed > 0 ? accepted / proposed : 0.0);
  if (steps > 0) {
    EXPECT_DOUBLE_EQ(r["mean_accepted_per_step"].get<double>(), static_cast<double>(accepted) / steps);
  }
  EXPECT_NEAR(spec["tokens_per_second"].get<double>(), generated / spec["seconds"].get<double>(), 1e-6);
  EXPECT_NEAR(r["speedup"].get<double>(),
              spec["tokens_per_second"].get<double>() / base["tokens_per_second"].get<double>(), 1e-9);
  std::string text;
  for (const json& t : r["tokens"]) text += t["text"].get<std::string>();
  EXPECT_EQ(r["text"], text);
}

TEST(CompareSpeculative, NgramOnARepetitivePrompt) {
  const json r = get_json(
      ngram(), "/compare/speculative?prompt=the+cat+sat+on+the+mat.+the+cat+sat+on+the+mat.&max_tokens=48");
  expect_consistent(r, "ngram", 4);
  EXPECT_EQ(r["max_tokens"], 48);
  EXPECT_GT(r["speculative"]["proposed"].get<int64_t>(), 0);
  EXPECT_GT(r["speculative"]["accepted"].get<int64_t>(), 0);
  EXPECT_GT(r["forwards_saved"].get<int64_t>(), 0);
  // The counters saw the speculative run.
  auto client = ngram().client();
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  const test::Exposition e = test::parse_prometheus(res->body);
  EXPECT_GE(e.at("helix_spec_proposed_tokens_total"), r["speculative"]["proposed"].get<double>());
  EXPECT_GE(e.at("helix_spec_accepted_tokens_total"), r["speculative"]["accepted"].get<double>());
  EXPECT_GE(e.at("helix_spec_verify_steps_total"), 1);
  EXPECT_EQ(e.at("helix_draft_kv_blocks_total"), 0);
}

TEST(CompareSpeculative, DefaultsAndTheDraftModel) {
  const json d = get_json(ngram(), "/compare/speculative");
  expect_consistent(d, "ngram", 4);
  EXPECT_EQ(d["max_tokens"], 64);
  EXPECT_EQ(d["prompt_tokens"], 5);  // BOS + "Once upon a time"

  // The draft model is the target itself: every draft is accepted.
  const json r = get_json(draft(), "/compare/speculative?max_tokens=40&spec_tokens=3");
  expect_consistent(r, "draft", 3);
  EXPECT_EQ(r["speculative"]["accepted"], r["speculative"]["proposed"]);
  EXPECT_EQ(r["acceptance_rate"], 1.0);
  // A plain server compares with ngram unless told otherwise.
  expect_consistent(get_json(plain(), "/compare/speculative?max_tokens=8&spec_tokens=8"), "ngram", 8);
}

TEST(CompareSpeculative, BadParametersNameThemselves) {
  struct Case {
    std::string query;
    int status;
    std::string param;
  };
  const std::vector<Case> cases = {
      {"max_tokens=0", 422, "max_tokens"},        {"max_tokens=513", 422, "max_tokens"},
      {"max_tokens=ten", 400, "max_tokens"},      {"spec_tokens=0", 422, "spec_tokens"},
      {"spec_tokens=9", 422, "spec_tokens"},      {"spec_tokens=4x", 400, "spec_tokens"},
      {"method=medusa", 422, "method"},           {"method=draft", 422, "method"},
      {"temperature=1", 400, "temperature"},      {"max_tokens=3&max_tokens=4", 400, "max_tokens"},
  };
  for (const Case& c : cases) {
    const json r = get_json(ngram(), "/compare/speculative?" + c.query, c.status);
    EXPECT_EQ(r["error"]["param"], c.param) << c.query;
    EXPECT_EQ(r["error"]["type"], "invalid_request_error") << c.query;
    EXPECT_TRUE(r["error"]["message"].is_string()) << c.query;
  }
  // A prompt the context cannot hold (stories260K: 512 tokens) with max_tokens.
  std::string long_prompt;
  for (int i = 0; i < 120; ++i) long_prompt += "the+cat+sat+";
  const json r = get_json(ngram(), "/compare/speculative?max_tokens=512&prompt=" + long_prompt, 422);
  EXPECT_FALSE(r["error"]["param"].is_null());
}

TEST(CompareSpeculative, NoModelIs503) {
  test::TestServer server;
  auto client = server.client();
  auto res = client.Get("/compare/speculative");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(test::parse_json(res->body)["error"]["type"], "server_error");
}

TEST(CompareSpeculative, CompletionsWithNgramGiveThePlainText) {
  for (const char* prompt : {"", "Once upon a time", "the cat sat on the mat. the cat sat on the"}) {
    const json body = {{"prompt", prompt}, {"max_tokens", 50}, {"temperature", 0}};
    auto a = plain().client().Post("/v1/completions", body.dump(), "application/json");
    auto b = ngram().client().Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(a && b);
    ASSERT_EQ(a->status, 200) << a->body;
    ASSERT_EQ(b->status, 200) << b->body;
    EXPECT_EQ(test::parse_json(a->body)["choices"][0]["text"], test::parse_json(b->body)["choices"][0]["text"])
        << prompt;
  }
}

TEST(CompareSpeculative, KvBlocksShowTheDraftPool) {
  EXPECT_FALSE(get_json(ngram(), "/kv/blocks").contains("draft"));
  const json k = get_json(draft(), "/kv/blocks");
  ASSERT_TRUE(k.contains("draft"));
  EXPECT_EQ(k["draft"]["num_blocks"], 256);
  EXPECT_EQ(k["draft"]["block_size"], 16);
  EXPECT_EQ(k["draft"]["used_blocks"].get<int64_t>() + k["draft"]["free_blocks"].get<int64_t>(), 256);
  EXPECT_TRUE(k["draft"]["sequences"].is_array());
}

TEST(CompareSpeculative, DocumentedInOpenApi) {
  test::TestServer server;
  auto client = server.client();
  auto res = client.Get("/openapi.json");
  ASSERT_TRUE(res);
  const json doc = test::parse_json(res->body);
  const json& op = doc["paths"]["/compare/speculative"]["get"];
  std::vector<std::string> names;
  for (const json& p : op["parameters"]) names.push_back(p["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"prompt", "max_tokens", "method", "spec_tokens"}));
  for (const char* status : {"200", "400", "422", "503"}) EXPECT_TRUE(op["responses"].contains(status)) << status;
  const json& props = doc["components"]["schemas"]["SpeculativeComparison"]["properties"];
  for (const char* field : {"model", "method", "spec_tokens", "prompt_tokens", "max_tokens", "baseline", "speculative",
                            "speedup", "acceptance_rate", "mean_accepted_per_step", "accepted_histogram",
                            "forwards_saved", "identical", "text", "tokens"})
    EXPECT_TRUE(props.contains(field)) << field;
}

}  // namespace
}  // namespace helix
