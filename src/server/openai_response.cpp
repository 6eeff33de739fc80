#include "server/openai_response.h"

#include <random>

#include <fmt/format.h>

namespace helix::server {

using nlohmann::json;

namespace {

const char* object_name(ApiKind kind, bool chunk) {
  if (kind == ApiKind::Completion) return "text_completion";  // OpenAI uses the same name for chunks
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json header(const ResponseMeta& meta, bool chunk) {
  return {{"id", meta.id}, {"object", object_name(meta.kind, chunk)}, {"created", meta.created}, {"model", meta.model}};
}

json finish_json(const std::optional<std::string>& reason) { return reason ? json(*reason) : json(nullptr); }

}  // namespace

std::string new_response_id(ApiKind kind) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}-{:016x}{:08x}", kind == ApiKind::Chat ? "chatcmpl" : "cmpl", rng(),
                     static_cast<uint32_t>(rng()));
}

json usage_json(const UsageCounts& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}}};
}

json full_response(const ResponseMeta& meta, const std::vector<ChoiceResult>& choices, const UsageCounts& usage) {
  json out = header(meta, /*chunk=*/false);
  json list = json::array();
  for (const ChoiceResult& c : choices) {
    json choice = {{"index", c.index}};
    if (meta.kind == ApiKind::Completion) {
      choice["text"] = c.text;
    } else {
      choice["message"] = {{"role", "assistant"}, {"content", c.text}};
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = c.finish_reason;
    list.push_back(std::move(choice));
  }
  out["choices"] = std::move(list);
  out["usage"] = usage_json(usage);
  return out;
}

json stream_chunk(const ResponseMeta& meta, int32_t index, const std::string& text,
                  const std::optional<std::string>& finish_reason, bool role_delta, bool usage_null) {
  json out = header(meta, /*chunk=*/true);
  json choice = {{"index", index}};
  if (meta.kind == ApiKind::Completion) {
    choice["text"] = text;
  } else {
    json delta = json::object();
    if (role_delta) delta["role"] = "assistant";
    if (role_delta || !text.empty()) delta["content"] = text;
    choice["delta"] = std::move(delta);
  }
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_json(finish_reason);
  out["choices"] = json::array({std::move(choice)});
  if (usage_null) out["usage"] = nullptr;
  return out;
}

json usage_chunk(const ResponseMeta& meta, const UsageCounts& usage) {
  json out = header(meta, /*chunk=*/true);
  out["choices"] = json::array();
  out["usage"] = usage_json(usage);
  return out;
}

}  // namespace helix::server
