// parse_openai_request: what a valid body becomes, and every kind of bad body refused with the field named.
#include "server/openai_request.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace helix::server {
namespace {

constexpr int32_t kVocab = 512;

OpenAiRequest parse_ok(ApiKind kind, const std::string& body) {
  auto r = parse_openai_request(kind, body, kVocab);
  EXPECT_TRUE(r) << body << " -> " << r.error().message;
  return r ? *r : OpenAiRequest{};
}

// The error for `body`: its param must be `param` and its message must contain `fragment`.
void expect_error(ApiKind kind, const std::string& body, const std::string& param, const std::string& fragment) {
  auto r = parse_openai_request(kind, body, kVocab);
  ASSERT_FALSE(r) << body << " was accepted";
  EXPECT_EQ(r.error().param, param) << body << " -> " << r.error().message;
  EXPECT_NE(r.error().message.find(fragment), std::string::npos)
      << body << " -> " << r.error().message << " (expected to contain '" << fragment << "')";
}

TEST(OpenAiRequest, CompletionDefaultsFollowOpenAi) {
  const OpenAiRequest r = parse_ok(ApiKind::Completion, R"({"model": "m", "prompt": "Once"})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.prompt_text, "Once");
  EXPECT_FALSE(r.prompt_is_ids);
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_EQ(r.n, 1);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.include_usage);
  EXPECT_FALSE(r.seed_given);
  EXPECT_FALSE(r.ignore_eos);
}

TEST(OpenAiRequest, EveryFieldIsRead) {
  const OpenAiRequest r = parse_ok(ApiKind::Completion, R"({
    "prompt": [1, 2, 3], "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "n": 3, "stop": ["a", "bc"],
    "seed": -1, "stream": true, "stream_options": {"include_usage": true}, "top_k": 40, "min_p": 0.05,
    "repetition_penalty": 1.1, "ignore_eos": true, "presence_penalty": 0, "user": "ignored", "unknown": {"x": 1}})");
  EXPECT_TRUE(r.prompt_is_ids);
  EXPECT_EQ(r.prompt_ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.n, 3);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.sampling.seed, ~uint64_t{0});  // -1 keeps its bits
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(r.sampling.repetition_penalty, 1.1f);
  EXPECT_TRUE(r.ignore_eos);
}

TEST(OpenAiRequest, PromptForms) {
  EXPECT_EQ(parse_ok(ApiKind::Completion, R"({"prompt": ["one"]})").prompt_text, "one");
  const OpenAiRequest ids = parse_ok(ApiKind::Completion, R"({"prompt": [[5, 6]]})");
  EXPECT_EQ(ids.prompt_ids, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(parse_ok(ApiKind::Completion, R"({"prompt": ""})").prompt_text, "");
  expect_error(ApiKind::Completion, R"({"prompt": ["a", "b"]})", "prompt", "2 prompts");
  expect_error(ApiKind::Completion, R"({"prompt": []})", "prompt", "empty");
  expect_error(ApiKind::Completion, R"({"prompt": [1, 512]})", "prompt", "prompt[1]: token id 512 is outside");
  expect_error(ApiKind::Completion, R"({"prompt": [1, -1]})", "prompt", "outside the vocabulary");
  expect_error(ApiKind::Completion, R"({"prompt": [1, "x"]})", "prompt", "prompt[1]: expected a token id");
  expect_error(ApiKind::Completion, R"({"prompt": [1.5]})", "prompt", "prompt[0]: expected a token id");
  expect_error(ApiKind::Completion, R"({"prompt": 5})", "prompt", "expected a string or an array");
  expect_error(ApiKind::Completion, R"({"prompt": null})", "prompt", "prompt: missing");
  expect_error(ApiKind::Completion, R"({"model": "m"})", "prompt", "prompt: missing");
}

TEST(OpenAiRequest, BodyMustBeAJsonObject) {
  expect_error(ApiKind::Completion, "", "", "invalid JSON");
  expect_error(ApiKind::Completion, "{\"prompt\": ", "", "invalid JSON");
  expect_error(ApiKind::Completion, "{\"prompt\": \"\xff\"}", "", "invalid JSON");  // not UTF-8
  expect_error(ApiKind::Completion, "[1, 2]", "", "expected a JSON object, got array");
  expect_error(ApiKind::Chat, "\"hi\"", "", "expected a JSON object, got string");
  // Deep nesting is parsed without recursion and refused as a wrong type.
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stop": )" + std::string(100000, '[') + std::string(100000, ']') + "}",
               "stop", "stop[0]: expected a string");
}

TEST(OpenAiRequest, WrongTypesNameTheField) {
  expect_error(ApiKind::Completion, R"({"prompt": "x", "max_tokens": "16"})", "max_tokens",
               "max_tokens: expected an integer, got string");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "max_tokens": 1.5})", "max_tokens", "expected an integer");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "temperature": "hot"})", "temperature", "expected a number");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stream": 1})", "stream", "expected a boolean");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "model": 3})", "model", "expected a string");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "n": true})", "n", "expected an integer");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "seed": "1"})", "seed", "expected an integer");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stop": 3})", "stop", "expected a string or an array");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stop": ["a", 1]})", "stop", "stop[1]: expected a string");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stream": true, "stream_options": 1})", "stream_options",
               "expected an object");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "ignore_eos": "yes"})", "ignore_eos", "expected a boolean");
  // An integral float is an integer, as in OpenAI's validator.
  EXPECT_EQ(parse_ok(ApiKind::Completion, R"({"prompt": "x", "max_tokens": 16.0})").max_tokens, 16);
  expect_error(ApiKind::Completion, R"({"prompt": "x", "max_tokens": 1e300})", "max_tokens", "expected an integer");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "max_tokens": 18446744073709551615})", "max_tokens",
               "out of range");
}

TEST(OpenAiRequest, RangesAreChecked) {
  expect_error(ApiKind::Completion, R"({"prompt": "x", "max_tokens": 0})", "max_tokens", "must be >= 1, got 0");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "max_tokens": -5})", "max_tokens", "must be >= 1");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "n": 0})", "n", "n: must be in [1, 128], got 0");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "n": 129})", "n", "got 129");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "temperature": 2.5})", "temperature",
               "temperature: must be in [0, 2], got 2.5");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "temperature": -0.1})", "temperature", "must be in [0, 2]");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "top_p": 0})", "top_p", "top_p: must be in (0, 1]");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "top_p": 1.01})", "top_p", "must be in (0, 1]");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "top_k": -2})", "top_k", "must be >= 0");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "min_p": 1})", "min_p", "must be in [0, 1)");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "repetition_penalty": 0})", "repetition_penalty",
               "must be in (0, 10]");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]})", "stop",
               "at most 4 strings, got 5");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stop": ""})", "stop", "must not be empty");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stop": ")" + std::string(300, 'a') + "\"}", "stop",
               "limited to 256 bytes");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "stream_options": {"include_usage": true}})",
               "stream_options", "only allowed when stream is true");
  EXPECT_EQ(parse_ok(ApiKind::Completion, R"({"prompt": "x", "top_k": -1})").sampling.top_k, 0);  // vLLM's "off"
  EXPECT_FLOAT_EQ(parse_ok(ApiKind::Completion, R"({"prompt": "x", "temperature": 0})").sampling.temperature, 0.0f);
}

TEST(OpenAiRequest, UnsupportedFeaturesAreRefusedNotIgnored) {
  expect_error(ApiKind::Completion, R"({"prompt": "x", "echo": true})", "echo", "not supported");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "logprobs": 2})", "logprobs", "not supported");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "suffix": "end"})", "suffix", "not supported");
  expect_error(ApiKind::Completion, R"({"prompt": "x", "best_of": 3})", "best_of", "not supported");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user", "content": "x"}], "frequency_penalty": 0.5})",
               "frequency_penalty", "use repetition_penalty");
  expect_error(ApiKind::Chat,
               R"({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})", "tools",
               "not supported");
  // Their "off" values are fine: clients send them by default.
  parse_ok(ApiKind::Completion,
           R"({"prompt": "x", "echo": false, "logprobs": null, "best_of": 1, "presence_penalty": 0, "suffix": ""})");
  parse_ok(ApiKind::Chat, R"({"messages": [{"role": "user", "content": "x"}], "logprobs": false, "tools": []})");
}

TEST(OpenAiRequest, ChatMessages) {
  const OpenAiRequest r = parse_ok(ApiKind::Chat, R"({"messages": [
      {"role": "developer", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "there"}]},
      {"role": "assistant", "content": "Hi", "name": "bot"}],
      "max_completion_tokens": 9})");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");  // developer is OpenAI's newer name for it
  EXPECT_EQ(r.messages[0].content, "Be brief.");
  EXPECT_EQ(r.messages[1].content, "Hello, there");
  EXPECT_EQ(r.messages[2].role, "assistant");
  EXPECT_EQ(r.max_tokens, 9);

  expect_error(ApiKind::Chat, R"({"model": "m"})", "messages", "messages: missing");
  expect_error(ApiKind::Chat, R"({"messages": []})", "messages", "at least one message");
  expect_error(ApiKind::Chat, R"({"messages": {"role": "user"}})", "messages", "expected an array");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                                                {"content": "c"}]})",
               "messages", "messages[2].role: missing");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": 1, "content": "a"}]})", "messages",
               "messages[0].role: expected a string, got number");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "wizard", "content": "a"}]})", "messages",
               "messages[0].role: must be system, developer, user or assistant, got 'wizard'");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user"}]})", "messages", "messages[0].content: missing");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user", "content": 5}]})", "messages",
               "messages[0].content: expected a string or an array");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", "messages",
               "messages[0].content[0].type: only 'text' parts are supported");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})", "messages",
               "messages[0].content[0].text: missing");
  expect_error(ApiKind::Chat, R"({"messages": ["hi"]})", "messages", "messages[0]: expected an object");
  expect_error(ApiKind::Chat, R"({"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 0})",
               "max_completion_tokens", "must be >= 1");
  expect_error(ApiKind::Chat,
               R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "max_completion_tokens": 6})",
               "max_completion_tokens", "disagrees with max_tokens 5");
}

}  // namespace
}  // namespace helix::server

namespace helix::server {
namespace {

// Seeded mutations of valid bodies (bytes flipped, cut, duplicated): the parser answers each one, value or
// error, and an error always has a message. Run under ASan this is the no-crash check.
TEST(OpenAiRequest, MutatedBodiesNeverCrash) {
  const std::vector<std::string> seeds = {
      R"({"prompt": [1, 2, 3], "max_tokens": 7, "temperature": 0.5, "n": 2, "stop": ["a", "bc"], "seed": 3})",
      R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "stream": true,
          "stream_options": {"include_usage": true}, "max_completion_tokens": 4, "top_k": 3})",
      R"({"prompt": "Once", "logprobs": null, "best_of": 1, "min_p": 0.1, "repetition_penalty": 1.2})"};
  std::mt19937_64 rng(20261123);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string body = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = rng() % body.size();
      switch (rng() % 4) {
        case 0: body[at] = static_cast<char>(rng() & 0xff); break;
        case 1: body.erase(at, 1 + rng() % 8); break;
        case 2: body.insert(at, body.substr(at, 1 + rng() % 8)); break;
        case 3: body.resize(at); break;
      }
    }
    for (ApiKind kind : {ApiKind::Completion, ApiKind::Chat}) {
      auto r = parse_openai_request(kind, body, kVocab);
      if (r) {
        ++accepted;
        EXPECT_GE(r->n, 1);
        EXPECT_LE(r->n, kMaxChoices);
        EXPECT_LE(r->stop.size(), kMaxStopStrings);
        if (r->max_tokens) {
          EXPECT_GE(*r->max_tokens, 1);
        }
      } else {
        EXPECT_FALSE(r.error().message.empty()) << body;
      }
    }
  }
  EXPECT_GT(accepted, 100);  // the mutations also reach the validation paths, not only the JSON parser
}

}  // namespace
}  // namespace helix::server
