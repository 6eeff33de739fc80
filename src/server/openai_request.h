// Parsing and validation of OpenAI's /v1/completions and /v1/chat/completions bodies, before tokenization.
//
// Every error names the field as the client spelt it ("max_tokens: must be >= 1, got 0",
// "messages[2].role: missing"); the routes answer all of them with 400, as OpenAI does. Fields OpenAI has and
// Helix does not know are ignored as OpenAI ignores unknown fields; fields whose meaning Helix cannot honour
// (echo, logprobs, suffix, best_of > n, non-zero presence/frequency penalties, tools) are refused rather than
// silently dropped. An explicit null means "not given", as in OpenAI's SDKs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/sampler.h"

namespace helix::server {

enum class ApiKind { Completion, Chat };

// One chat message; content parts of type "text" are joined.
struct ChatTurn {
  std::string role;
  std::string content;
};

inline constexpr int32_t kMaxChoices = 128;      // OpenAI's bound on n
inline constexpr size_t kMaxStopStrings = 4;     // OpenAI's bound on stop
inline constexpr size_t kMaxStopStringBytes = 256;
inline constexpr double kMaxTemperature = 2.0;   // OpenAI's range is [0, 2]

struct OpenAiRequest {
  ApiKind kind = ApiKind::Completion;
  std::string model;  // as given; empty when absent (the server answers with its own model name)

  // Completions: text, or token ids when `prompt_is_ids`.
  std::string prompt_text;
  std::vector<int32_t> prompt_ids;
  bool prompt_is_ids = false;
  // Chat.
  std::vector<ChatTurn> messages;

  std::optional<int64_t> max_tokens;  // unset: 16 for completions, the rest of the context for chat
  SamplingParams sampling;            // temperature defaults to 1 as in OpenAI; top_k, min_p, ... are extras
  bool seed_given = false;
  int32_t n = 1;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool ignore_eos = false;
};

// `body` is the raw request body. Token ids are checked against `vocab_size` (> 0).
Result<OpenAiRequest> parse_openai_request(ApiKind kind, std::string_view body, int32_t vocab_size);

}  // namespace helix::server
