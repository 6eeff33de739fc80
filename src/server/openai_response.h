// Response bodies of /v1/completions and /v1/chat/completions in OpenAI's shapes: the whole response, the
// streamed chunks (object "text_completion" / "chat.completion.chunk" with `delta`), and usage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/openai_request.h"

namespace helix::server {

struct ResponseMeta {
  ApiKind kind = ApiKind::Completion;
  std::string id;       // "cmpl-..." / "chatcmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

struct UsageCounts {
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache
  int64_t completion_tokens = 0;
};

struct ChoiceResult {
  int32_t index = 0;
  std::string text;
  std::string finish_reason;  // "stop", "length", "abort"
};

// A fresh id with the kind's prefix and 24 random hex digits.
std::string new_response_id(ApiKind kind);

nlohmann::json usage_json(const UsageCounts& usage);

// The whole (non-streamed) response.
nlohmann::json full_response(const ResponseMeta& meta, const std::vector<ChoiceResult>& choices,
                             const UsageCounts& usage);

// One streamed chunk for one choice. `text` is the new text (chat: delta.content, left out when empty unless
// `role_delta`, which also carries delta.role = "assistant"); a finish reason marks the choice's last chunk.
// `usage_null` adds "usage": null, as OpenAI does in every chunk when stream_options.include_usage is set.
nlohmann::json stream_chunk(const ResponseMeta& meta, int32_t index, const std::string& text,
                            const std::optional<std::string>& finish_reason, bool role_delta, bool usage_null);

// The last chunk of a stream with include_usage: no choices, the usage.
nlohmann::json usage_chunk(const ResponseMeta& meta, const UsageCounts& usage);

}  // namespace helix::server
