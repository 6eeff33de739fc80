// /v1/completions, /v1/chat/completions and /v1/models over real HTTP against a scripted FakeEngine: response
// shapes, the exact streaming format, stop strings, errors, disconnects and many concurrent streams.
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/chat_prompt.h"
#include "serving_test_util.h"

namespace helix {
namespace {

using nlohmann::json;
using test::FakeScript;
using test::FakeServing;

const std::string kStory = "Once upon a time, there was a little girl named Lily. She loved to play outside.";

FakeScript story_script(std::chrono::milliseconds interval = std::chrono::milliseconds(0)) {
  FakeScript s;
  s.tokens = test::stories_tokenizer().encode(kStory, false);
  s.token_interval = interval;
  return s;
}

// The text the script's first `n` tokens decode to after a prompt that does not end in BOS.
std::string story_text(size_t n) {
  const Tokenizer& tok = test::stories_tokenizer();
  auto ids = tok.encode(kStory, false);
  ids.resize(std::min(n, ids.size()));
  std::string out;
  int32_t prev = 100;  // any non-BOS token: the first piece keeps its leading space
  for (int32_t id : ids) {
    out += tok.decode_piece(prev, id);
    prev = id;
  }
  return out;
}

size_t story_tokens() { return test::stories_tokenizer().encode(kStory, false).size(); }

json post_json(httplib::Client& client, const std::string& path, const json& body, int expected_status = 200) {
  auto res = client.Post(path.c_str(), body.dump(), "application/json");
  if (!res) {
    ADD_FAILURE() << "no response from " << path;
    return {};
  }
  EXPECT_EQ(res->status, expected_status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  return test::parse_json(res->body);
}

// Posts and returns the raw body, checking the status and content type.
std::string post_raw(httplib::Client& client, const std::string& path, const std::string& body, int status,
                     const std::string& content_type) {
  auto res = client.Post(path.c_str(), body, "application/json");
  if (!res) {
    ADD_FAILURE() << "no response from " << path;
    return {};
  }
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), content_type);
  return res->body;
}

void expect_error(httplib::Client& client, const std::string& path, const std::string& body, int status,
                  const std::string& param, const std::string& fragment, const std::string& code = "") {
  auto res = client.Post(path.c_str(), body, "application/json");
  ASSERT_TRUE(res) << body;
  EXPECT_EQ(res->status, status) << body << " -> " << res->body;
  const json j = test::parse_json(res->body);
  ASSERT_TRUE(j.contains("error")) << res->body;
  EXPECT_EQ(j["error"]["type"], status >= 500 ? "server_error" : "invalid_request_error");
  if (param.empty()) {
    EXPECT_TRUE(j["error"]["param"].is_null()) << res->body;
  } else {
    EXPECT_EQ(j["error"]["param"], param) << res->body;
  }
  if (code.empty()) {
    EXPECT_TRUE(j["error"]["code"].is_null()) << res->body;
  } else {
    EXPECT_EQ(j["error"]["code"], code) << res->body;
  }
  EXPECT_NE(j["error"]["message"].get<std::string>().find(fragment), std::string::npos)
      << res->body << " (expected '" << fragment << "')";
}

TEST(OpenAiRoutes, CompletionResponseShape) {
  FakeServing s(story_script());
  auto client = s.client();
  const auto before = std::time(nullptr);
  const json r = post_json(client, "/v1/completions",
                           {{"model", "anything"}, {"prompt", "Hello"}, {"max_tokens", 5}, {"temperature", 0}});
  EXPECT_EQ(r["id"].get<std::string>().rfind("cmpl-", 0), 0u) << r;
  EXPECT_EQ(r["object"], "text_completion");
  EXPECT_GE(r["created"].get<int64_t>(), before);
  EXPECT_LE(r["created"].get<int64_t>(), std::time(nullptr));
  EXPECT_EQ(r["model"], "fake-model");
  ASSERT_EQ(r["choices"].size(), 1u);
  const json& c = r["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["text"], story_text(5));
  EXPECT_TRUE(c["logprobs"].is_null());
  EXPECT_EQ(c["finish_reason"], "length");
  // "Hello" with BOS: the prompt the engine got.
  const auto prompt = test::stories_tokenizer().encode("Hello", true);
  const json& u = r["usage"];
  EXPECT_EQ(u["prompt_tokens"], prompt.size());
  EXPECT_EQ(u["completion_tokens"], 5);
  EXPECT_EQ(u["total_tokens"], prompt.size() + 5);
  EXPECT_EQ(u["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(r.size(), 6u) << r;  // id, object, created, model, choices, usage

  const auto submitted = s.engine().submitted();
  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0].prompt, prompt);
  EXPECT_EQ(submitted[0].max_tokens, 5);
  EXPECT_FLOAT_EQ(submitted[0].sampling.temperature, 0.0f);
  EXPECT_EQ(submitted[0].n, 1);
  EXPECT_FALSE(submitted[0].ignore_eos);
}

TEST(OpenAiRoutes, CompletionEndsWithStopWhenTheEngineStops) {
  FakeServing s(story_script());
  auto client = s.client();
  const json r = post_json(client, "/v1/completions", {{"prompt", "Hello"}, {"max_tokens", 100}});
  EXPECT_EQ(r["choices"][0]["text"], story_text(story_tokens()));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(r["usage"]["completion_tokens"], story_tokens() + 1);  // the stop token counts, as the engine counts it
}

TEST(OpenAiRoutes, SamplingFieldsReachTheEngine) {
  FakeServing s(story_script());
  auto client = s.client();
  post_json(client, "/v1/completions",
            {{"prompt", {1, 5, 9}}, {"max_tokens", 3}, {"temperature", 0.7}, {"top_p", 0.8}, {"top_k", 12},
             {"min_p", 0.1}, {"repetition_penalty", 1.3}, {"seed", 42}, {"n", 2}, {"ignore_eos", true}});
  const auto submitted = s.engine().submitted();
  ASSERT_EQ(submitted.size(), 1u);
  const RequestParams& p = submitted[0];
  EXPECT_EQ(p.prompt, (std::vector<int32_t>{1, 5, 9}));  // ids are taken as given: no BOS added
  EXPECT_FLOAT_EQ(p.sampling.temperature, 0.7f);
  EXPECT_FLOAT_EQ(p.sampling.top_p, 0.8f);
  EXPECT_EQ(p.sampling.top_k, 12);
  EXPECT_FLOAT_EQ(p.sampling.min_p, 0.1f);
  EXPECT_FLOAT_EQ(p.sampling.repetition_penalty, 1.3f);
  EXPECT_EQ(p.sampling.seed, 42u);
  EXPECT_EQ(p.n, 2);
  EXPECT_TRUE(p.ignore_eos);
  EXPECT_TRUE(p.stop_ids.empty());
}

TEST(OpenAiRoutes, DefaultMaxTokens) {
  FakeServing s(story_script(), FakeServing::default_options(), {}, /*max_seq_len=*/64);
  auto client = s.client();
  post_json(client, "/v1/completions", {{"prompt", "Hello"}});
  post_json(client, "/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}});
  const auto submitted = s.engine().submitted();
  ASSERT_EQ(submitted.size(), 2u);
  EXPECT_EQ(submitted[0].max_tokens, 16);  // OpenAI's default for completions
  // Chat: the rest of the context.
  EXPECT_EQ(submitted[1].max_tokens, 64 - static_cast<int64_t>(submitted[1].prompt.size()));
}

TEST(OpenAiRoutes, EmptyPromptStartsFromBos) {
  FakeServing s(story_script());
  auto client = s.client();
  const json r = post_json(client, "/v1/completions", {{"prompt", ""}, {"max_tokens", 2}});
  EXPECT_EQ(s.engine().submitted().at(0).prompt, std::vector<int32_t>{test::stories_tokenizer().bos_id()});
  EXPECT_EQ(r["usage"]["prompt_tokens"], 1);
  // After BOS the first piece loses its leading space.
  EXPECT_EQ(r["choices"][0]["text"], story_text(2).substr(1));
}

TEST(OpenAiRoutes, ChatResponseShape) {
  FakeServing s(story_script());
  auto client = s.client();
  const json r = post_json(client, "/v1/chat/completions",
                           {{"model", "fake-model"},
                            {"messages", {{{"role", "system"}, {"content", "Tell stories."}},
                                          {{"role", "user"}, {"content", "One please"}}}},
                            {"max_completion_tokens", 4}});
  EXPECT_EQ(r["id"].get<std::string>().rfind("chatcmpl-", 0), 0u) << r;
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["model"], "fake-model");
  ASSERT_EQ(r["choices"].size(), 1u);
  EXPECT_EQ(r["choices"][0]["index"], 0);
  EXPECT_EQ(r["choices"][0]["message"], json({{"role", "assistant"}, {"content", story_text(4)}}));
  EXPECT_EQ(r["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(r["choices"][0]["logprobs"].is_null());
  // The renderer's text, tokenized with BOS (it does not start with one) and special tokens parsed.
  const Tokenizer& tok = test::stories_tokenizer();
  const auto prompt = tok.encode("<|system|>\nTell stories.\n<|user|>\nOne please\n<|assistant|>\n", true, true);
  EXPECT_EQ(s.engine().submitted().at(0).prompt, prompt);
  EXPECT_EQ(r["usage"]["prompt_tokens"], prompt.size());
  EXPECT_EQ(r["usage"]["completion_tokens"], 4);
  EXPECT_EQ(r["usage"]["total_tokens"], prompt.size() + 4);
}

TEST(OpenAiRoutes, SeveralChoices) {
  FakeServing s(story_script());
  auto client = s.client();
  const json r = post_json(client, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 3}, {"n", 3}});
  ASSERT_EQ(r["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r["choices"][i]["index"], i);
    EXPECT_EQ(r["choices"][i]["text"], story_text(3));
  }
  EXPECT_EQ(r["usage"]["completion_tokens"], 9);  // over all choices, as OpenAI counts
}

TEST(OpenAiRoutes, CompletionStreamFormat) {
  FakeServing s(story_script());
  auto client = s.client();
  auto res = client.Post("/v1/completions", json({{"prompt", "Hi"}, {"max_tokens", 6}, {"stream", true}}).dump(),
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
  const auto events = test::openai_stream_events(res->body);
  ASSERT_GE(events.size(), 2u);
  std::string text;
  const std::string id = events[0]["id"];
  EXPECT_EQ(id.rfind("cmpl-", 0), 0u);
  for (size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    EXPECT_EQ(e["id"], id);
    EXPECT_EQ(e["object"], "text_completion");
    EXPECT_EQ(e["model"], "fake-model");
    EXPECT_TRUE(e["created"].is_number_integer());
    EXPECT_FALSE(e.contains("usage")) << "usage only with stream_options.include_usage: " << e;
    ASSERT_EQ(e["choices"].size(), 1u);
    const json& c = e["choices"][0];
    EXPECT_EQ(c["index"], 0);
    EXPECT_TRUE(c["logprobs"].is_null());
    text += c["text"].get<std::string>();
    if (i + 1 < events.size()) {
      EXPECT_TRUE(c["finish_reason"].is_null()) << e;
      EXPECT_FALSE(c["text"].get<std::string>().empty()) << "empty text chunk before the end";
    } else {
      EXPECT_EQ(c["finish_reason"], "length");
      EXPECT_EQ(c["text"], "");
    }
  }
  EXPECT_EQ(text, story_text(6));
}

TEST(OpenAiRoutes, ChatStreamFormatWithUsage) {
  FakeServing s(story_script(std::chrono::milliseconds(1)));
  auto client = s.client();
  const std::string body =
      post_raw(client, "/v1/chat/completions",
               json({{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                     {"max_tokens", 5},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}}})
                   .dump(),
               200, "text/event-stream");
  const auto events = test::openai_stream_events(body);
  ASSERT_GE(events.size(), 4u);  // role, content..., finish, usage
  const std::string id = events[0]["id"];
  EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
  for (const json& e : events) {
    EXPECT_EQ(e["id"], id);
    EXPECT_EQ(e["object"], "chat.completion.chunk");
    ASSERT_TRUE(e.contains("usage")) << "with include_usage every chunk has usage: " << e;
  }
  // First: the role, with empty content.
  EXPECT_EQ(events[0]["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}}));
  EXPECT_TRUE(events[0]["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(events[0]["usage"].is_null());
  std::string text;
  const size_t finish_at = events.size() - 2;
  for (size_t i = 1; i < finish_at; ++i) {
    const json& c = events[i]["choices"][0];
    EXPECT_EQ(c["delta"].size(), 1u) << events[i];
    text += c["delta"]["content"].get<std::string>();
    EXPECT_TRUE(c["finish_reason"].is_null());
    EXPECT_TRUE(events[i]["usage"].is_null());
  }
  EXPECT_EQ(text, story_text(5));
  // Then the finish, with an empty delta.
  EXPECT_EQ(events[finish_at]["choices"][0]["delta"], json::object());
  EXPECT_EQ(events[finish_at]["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(events[finish_at]["usage"].is_null());
  // Last: no choices, the usage.
  const json& last = events.back();
  EXPECT_EQ(last["choices"], json::array());
  const auto prompt = test::stories_tokenizer().encode("<|user|>\nHi\n<|assistant|>\n", true, true);
  EXPECT_EQ(last["usage"]["prompt_tokens"], prompt.size());
  EXPECT_EQ(last["usage"]["completion_tokens"], 5);
  EXPECT_EQ(last["usage"]["total_tokens"], prompt.size() + 5);
  EXPECT_EQ(last["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
}

TEST(OpenAiRoutes, StreamWithSeveralChoices) {
  FakeServing s(story_script());
  auto client = s.client();
  const std::string body = post_raw(
      client, "/v1/chat/completions",
      json({{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 4}, {"n", 2}, {"stream", true}})
          .dump(),
      200, "text/event-stream");
  std::vector<std::string> text(2);
  std::vector<int> roles(2, 0), finishes(2, 0);
  for (const json& e : test::openai_stream_events(body)) {
    const json& c = e["choices"][0];
    const int i = c["index"];
    ASSERT_TRUE(i == 0 || i == 1);
    EXPECT_EQ(finishes[i], 0) << "chunk after choice " << i << " finished";
    if (c["delta"].contains("role")) ++roles[i];
    if (c["delta"].contains("content")) text[i] += c["delta"]["content"].get<std::string>();
    if (!c["finish_reason"].is_null()) ++finishes[i];
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(roles[i], 1);
    EXPECT_EQ(finishes[i], 1);
    EXPECT_EQ(text[i], story_text(4));
  }
}

TEST(OpenAiRoutes, StopStringCutsTheTextAndCancelsTheRequest) {
  // Slow enough that the cancel lands while the script still has tokens to give.
  FakeServing s(story_script(std::chrono::milliseconds(20)));
  auto client = s.client();
  const json r = post_json(client, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 50}, {"stop", {"little"}}});
  EXPECT_EQ(r["choices"][0]["text"], " Once upon a time, there was a ");
  EXPECT_EQ(r["choices"][0]["finish_reason"], "stop");
  // Tokens up to the one completing the stop string count; the engine stopped generating.
  const auto upto = test::stories_tokenizer().encode("Once upon a time, there was a little", false).size();
  EXPECT_EQ(r["usage"]["completion_tokens"], upto);
  EXPECT_TRUE(s.engine().wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(s.engine().cancelled_count(), 1);
}

TEST(OpenAiRoutes, StreamNeverShowsAStopString) {
  FakeServing s(story_script());
  auto client = s.client();
  const std::string body = post_raw(client, "/v1/completions",
                                    json({{"prompt", "Hi"}, {"max_tokens", 50}, {"stop", "girl named"},
                                          {"stream", true}})
                                        .dump(),
                                    200, "text/event-stream");
  std::string text;
  const auto events = test::openai_stream_events(body);
  for (const json& e : events) text += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, " Once upon a time, there was a little ");
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "stop");
}

TEST(OpenAiRoutes, BadBodiesAreRefusedWithTheFieldNamed) {
  FakeServing s(story_script(), FakeServing::default_options(), {}, /*max_seq_len=*/64);
  auto client = s.client();
  const std::string c = "/v1/completions", chat = "/v1/chat/completions";
  expect_error(client, c, "{not json", 400, "", "invalid JSON");
  expect_error(client, c, "", 400, "", "invalid JSON");
  expect_error(client, c, "[]", 400, "", "expected a JSON object");
  expect_error(client, c, R"({"prompt": "x", "max_tokens": "16"})", 400, "max_tokens", "expected an integer");
  expect_error(client, c, R"({"prompt": "x", "max_tokens": 0})", 400, "max_tokens", "must be >= 1");
  expect_error(client, c, R"({"prompt": "x", "n": 200})", 400, "n", "must be in [1, 128]");
  expect_error(client, c, R"({"prompt": "x", "temperature": 3})", 400, "temperature", "must be in [0, 2]");
  expect_error(client, c, R"({"max_tokens": 3})", 400, "prompt", "prompt: missing");
  expect_error(client, c, R"({"prompt": [1, 99999]})", 400, "prompt", "outside the vocabulary");
  expect_error(client, chat, R"({"prompt": "x"})", 400, "messages", "messages: missing");
  expect_error(client, chat, R"({"messages": [{"role": "user", "content": "a"}, {"content": "b"}]})", 400,
               "messages", "messages[1].role: missing");
  // The context: 64 tokens. A prompt that fills it, and one that leaves too little room for max_tokens.
  std::string long_prompt;
  for (int i = 0; i < 80; ++i) long_prompt += " time";
  expect_error(client, c, json({{"prompt", long_prompt}}).dump(), 400, "prompt",
               "maximum context length is 64 tokens", "context_length_exceeded");
  expect_error(client, c, R"({"prompt": "Once upon a time", "max_tokens": 60})", 400, "max_tokens",
               "maximum context length is 64 tokens", "context_length_exceeded");
  expect_error(client, chat, json({{"messages", {{{"role", "user"}, {"content", long_prompt}}}}}).dump(), 400,
               "messages", "maximum context length is 64 tokens", "context_length_exceeded");
  EXPECT_TRUE(s.engine().submitted().empty());
}

TEST(OpenAiRoutes, MutatedBodiesGetAnAnswer) {
  // Seeded mutations of a valid body over HTTP: each gets 200 or 400 with an OpenAI error body; the server stays up.
  FakeServing s(story_script());
  auto client = s.client();
  const std::string valid = R"({"prompt": "Hi", "max_tokens": 3, "stop": ["x"], "n": 2, "stream": false})";
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string body = valid;
    for (int e = 0; e < 3; ++e) {
      const size_t at = rng() % body.size();
      if (rng() % 2) {
        body[at] = static_cast<char>(rng() & 0xff);
      } else {
        body.erase(at, 1);
      }
    }
    auto res = client.Post("/v1/completions", body, "application/json");
    ASSERT_TRUE(res) << "no answer to " << body;
    ASSERT_TRUE(res->status == 200 || res->status == 400) << res->status << " for " << body << ": " << res->body;
    if (res->status == 400) {
      EXPECT_TRUE(test::parse_json(res->body)["error"]["message"].is_string()) << res->body;
    }
  }
  EXPECT_EQ(client.Get("/v1/models")->status, 200);
}

TEST(OpenAiRoutes, RefusalsOutsideTheBody) {
  server::HttpServerOptions http;
  http.max_body_bytes = 1024;
  server::ServingRoutesOptions options = FakeServing::default_options();
  options.chat = nullptr;  // a model without a chat template
  FakeServing s(story_script(), options, http);
  auto client = s.client();
  expect_error(client, "/v1/completions", json({{"prompt", std::string(2000, 'a')}}).dump(), 413, "",
               "request body too large");
  expect_error(client, "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "a"}]})", 400,
               "messages", "no chat template");
  auto res = client.Get("/v1/completions");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = client.Post("/v1/embeddings", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(OpenAiRoutes, EngineRefusalIsABadRequest) {
  // Within the context, but 3 choices of 2 + 400 tokens need 3 * 26 blocks of 16 and the pool has 64.
  FakeServing s(story_script());
  auto client = s.client();
  expect_error(client, "/v1/completions", R"({"prompt": "Hi", "max_tokens": 400, "n": 3})", 400, "max_tokens",
               "the request needs 78 blocks, the whole pool has 64");
  EXPECT_EQ(s.engine().metrics().requests_rejected_total, 1u);
}

TEST(OpenAiRoutes, StoppedEngineIsUnavailable) {
  FakeServing s(story_script());
  s.engine().stop();
  auto client = s.client();
  expect_error(client, "/v1/completions", R"({"prompt": "Hi"})", 503, "", "the engine is stopped");
}

TEST(OpenAiRoutes, EngineFailure) {
  FakeScript script = story_script();
  script.fail = true;
  FakeServing s(script);
  auto client = s.client();
  expect_error(client, "/v1/completions", R"({"prompt": "Hi", "max_tokens": 100})", 500, "",
               "generation failed: scripted failure");
  const std::string body = post_raw(client, "/v1/completions",
                                    R"({"prompt": "Hi", "max_tokens": 100, "stream": true})", 200, "text/event-stream");
  const auto events = test::openai_stream_events(body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["error"]["message"], "generation failed: scripted failure");
  EXPECT_EQ(events.back()["error"]["type"], "server_error");
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_TRUE(events[i]["choices"][0]["finish_reason"].is_null());
}

TEST(OpenAiRoutes, Models) {
  FakeServing s(story_script());
  auto client = s.client();
  auto res = client.Get("/v1/models");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const json list = test::parse_json(res->body);
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 1u);
  const json& m = list["data"][0];
  EXPECT_EQ(m["id"], "fake-model");
  EXPECT_EQ(m["object"], "model");
  EXPECT_EQ(m["owned_by"], "helix");
  EXPECT_TRUE(m["created"].is_number_integer());
  EXPECT_EQ(m["max_model_len"], 512);
  res = client.Get("/v1/models/fake-model");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(test::parse_json(res->body), m);
  res = client.Get("/v1/models/gpt-4");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  const json err = test::parse_json(res->body);
  EXPECT_EQ(err["error"]["code"], "model_not_found");
  EXPECT_EQ(err["error"]["param"], "model");
}

TEST(OpenAiRoutes, ServedModelName) {
  server::ServingRoutesOptions options = FakeServing::default_options();
  options.served_model_name = "stories";
  FakeServing s(story_script(), options);
  auto client = s.client();
  EXPECT_EQ(test::parse_json(client.Get("/v1/models")->body)["data"][0]["id"], "stories");
  EXPECT_EQ(post_json(client, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 1}})["model"], "stories");
}

// Streams a request and drops the connection after `chunks` chunks arrived.
void stream_and_disconnect(httplib::Client& client, const std::string& path, const json& body, int chunks) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  int seen = 0;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    for (size_t i = 0; i + 1 < len; ++i)
      if (data[i] == '\n' && data[i + 1] == '\n') ++seen;
    return seen < chunks;  // false: the client aborts and closes the connection
  };
  auto res = client.send(req);
  EXPECT_FALSE(res) << "the client was meant to abort";
  client.stop();
}

TEST(OpenAiRoutes, DisconnectMidStreamCancels) {
  FakeServing s(story_script(std::chrono::milliseconds(50)));
  auto client = s.client();
  stream_and_disconnect(client, "/v1/completions", {{"prompt", "Hi"}, {"max_tokens", 100}, {"stream", true}}, 2);
  // The script would take ~1 s more; the cancel frees the request well before.
  EXPECT_TRUE(s.engine().wait_idle(std::chrono::milliseconds(600)));
  EXPECT_EQ(s.engine().cancelled_count(), 1);
  EXPECT_EQ(s.engine().metrics().kv_blocks_used, 0);
}

TEST(OpenAiRoutes, DisconnectWhileWaitingCancels) {
  // The engine never produces a token: only the connection probe can tell the client left.
  FakeScript stuck = story_script();
  stuck.emit_nothing = true;
  FakeServing s(stuck);
  for (const bool stream : {false, true}) {
    auto client = s.client();
    client.set_read_timeout(0, 200000);  // 0.2 s, then the client gives up and closes
    auto res = client.Post("/v1/completions", json({{"prompt", "Hi"}, {"stream", stream}}).dump(), "application/json");
    if (!stream) {
      EXPECT_FALSE(res);
    }
    client.stop();
    EXPECT_TRUE(s.engine().wait_idle(std::chrono::seconds(2))) << "stream=" << stream;
    EXPECT_EQ(s.engine().cancelled_count(), stream ? 2 : 1);
  }
}

TEST(OpenAiRoutes, SixtyFourConcurrentStreams) {
  constexpr int kClients = 64;
  // No request produces a token before all 64 are in the engine: every stream is open at once.
  FakeScript script = story_script(std::chrono::milliseconds(2));
  script.wait_for_running = kClients;
  // A real template (zephyr's Jinja), rendered by many handler threads at once.
  server::ServingRoutesOptions options = FakeServing::default_options();
  auto zephyr = chat_template_by_name("zephyr");
  ASSERT_TRUE(zephyr);
  options.chat = server::chat_renderer(std::move(*zephyr));
  FakeServing s(script, options);
  std::vector<std::thread> threads;
  std::vector<std::string> texts(kClients);
  std::vector<int> finishes(kClients, 0);
  std::atomic<int> failures{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto client = s.client();
      client.set_read_timeout(30);
      const bool chat = i % 2 == 0;
      json body = {{"max_tokens", 200}, {"stream", true}};
      if (chat) {
        body["messages"] = {{{"role", "user"}, {"content", "Story " + std::to_string(i)}}};
      } else {
        body["prompt"] = "Story " + std::to_string(i);
      }
      auto res = client.Post(chat ? "/v1/chat/completions" : "/v1/completions", body.dump(), "application/json");
      if (!res || res->status != 200) {
        ++failures;
        std::lock_guard lock(errors_mutex);
        errors.push_back(res ? "status " + std::to_string(res->status) : httplib::to_string(res.error()));
        return;
      }
      for (const json& e : test::openai_stream_events(res->body)) {
        const json& c = e["choices"][0];
        texts[i] += chat ? c["delta"].value("content", "") : c["text"].get<std::string>();
        if (!c["finish_reason"].is_null()) ++finishes[i];
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(failures.load(), 0) << (errors.empty() ? "" : errors[0]);
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(texts[i], story_text(story_tokens())) << "client " << i;
    EXPECT_EQ(finishes[i], 1) << "client " << i;
  }
  EXPECT_LT(seconds, 30.0);
  EXPECT_EQ(s.engine().peak_running(), kClients);
  EXPECT_TRUE(s.engine().wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(s.engine().cancelled_count(), 0);
}

TEST(OpenAiRoutes, EngineStopEndsStreamsWithAbort) {
  FakeServing s(story_script(std::chrono::milliseconds(100)));
  std::string body;
  std::thread reader([&] {
    auto client = s.client();
    auto res = client.Post("/v1/completions", json({{"prompt", "Hi"}, {"max_tokens", 100}, {"stream", true}}).dump(),
                           "application/json");
    if (res) body = res->body;
  });
  while (s.options().generations->count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  s.engine().stop();
  EXPECT_TRUE(s.options().generations->wait_idle(std::chrono::seconds(2)));
  reader.join();
  const auto events = test::openai_stream_events(body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["choices"][0]["finish_reason"], "abort");
}

}  // namespace
}  // namespace helix
