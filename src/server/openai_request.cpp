#include "server/openai_request.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/query_params.h"

namespace helix::server {

namespace {

using nlohmann::json;

// The member `name` of `obj`; nullptr when absent or null (an explicit null means "not given").
const json* member(const json& obj, const std::string& name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

// `param` is the top-level field ("stop" for stop[1]), as OpenAI names it.
Unexpected type_error(const std::string& name, const char* expected, const json& value, std::string param = {}) {
  return make_error(fmt::format("{}: expected {}, got {}", name, expected, value.type_name()),
                    param.empty() ? name : std::move(param));
}

// An integer: JSON integers, and numbers with an integral value (16.0) as OpenAI's validator accepts them.
Result<std::optional<int64_t>> opt_int(const json& obj, const std::string& name) {
  const json* v = member(obj, name);
  if (!v) return std::optional<int64_t>{};
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return make_error(fmt::format("{}: {} is out of range", name, u), name);
    return std::optional<int64_t>{static_cast<int64_t>(u)};
  }
  if (v->is_number_integer()) return std::optional<int64_t>{v->get<int64_t>()};
  if (v->is_number_float()) {
    const double d = v->get<double>();
    // 2^63 is exact in a double; anything at or past it does not fit.
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9223372036854775808.0)
      return std::optional<int64_t>{static_cast<int64_t>(d)};
    return make_error(fmt::format("{}: expected an integer, got {}", name, d), name);
  }
  return type_error(name, "an integer", *v);
}

Result<std::optional<double>> opt_number(const json& obj, const std::string& name) {
  const json* v = member(obj, name);
  if (!v) return std::optional<double>{};
  if (!v->is_number()) return type_error(name, "a number", *v);
  return std::optional<double>{v->get<double>()};
}

Result<std::optional<bool>> opt_bool(const json& obj, const std::string& name) {
  const json* v = member(obj, name);
  if (!v) return std::optional<bool>{};
  if (!v->is_boolean()) return type_error(name, "a boolean", *v);
  return std::optional<bool>{v->get<bool>()};
}

Result<std::optional<std::string>> opt_string(const json& obj, const std::string& name) {
  const json* v = member(obj, name);
  if (!v) return std::optional<std::string>{};
  if (!v->is_string()) return type_error(name, "a string", *v);
  return std::optional<std::string>{v->get<std::string>()};
}

// A number within [lo, hi] (or (lo, hi] when !lo_inclusive); the message shows the interval.
Status check_range(const std::string& name, double value, double lo, double hi, bool lo_inclusive = true) {
  const bool ok = (lo_inclusive ? value >= lo : value > lo) && value <= hi;
  if (ok && std::isfinite(value)) return {};
  return make_error(fmt::format("{}: must be in {}{}, {}], got {}", name, lo_inclusive ? "[" : "(", lo, hi, value),
                    name);
}

Result<std::vector<int32_t>> token_ids(const json& array, const std::string& name, int32_t vocab_size) {
  std::vector<int32_t> ids;
  ids.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    const json& v = array[i];
    const std::string at = fmt::format("{}[{}]", name, i);
    if (!v.is_number_integer()) return type_error(at, "a token id (integer)", v, "prompt");
    const int64_t id = v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX ? -1 : v.get<int64_t>();
    if (id < 0 || id >= vocab_size)
      return make_error(fmt::format("{}: token id {} is outside the vocabulary [0, {})", at, v.dump(), vocab_size),
                        name);
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

// "prompt": a string, an array of token ids, or a one-element array of either (OpenAI's batch forms with
// more than one prompt are refused: one request, one prompt).
Status read_prompt(const json& body, int32_t vocab_size, OpenAiRequest& out) {
  const json* p = member(body, "prompt");
  if (!p) return make_error("prompt: missing", "prompt");
  if (p->is_string()) {
    out.prompt_text = p->get<std::string>();
    return {};
  }
  if (!p->is_array()) return type_error("prompt", "a string or an array of token ids", *p);
  if (p->empty()) return make_error("prompt: must not be empty", "prompt");
  const json& first = (*p)[0];
  if (first.is_string() || first.is_array()) {
    if (p->size() > 1)
      return make_error(fmt::format("prompt: {} prompts given; one request takes one prompt", p->size()), "prompt");
    if (first.is_string()) {
      out.prompt_text = first.get<std::string>();
      return {};
    }
    if (first.empty()) return make_error("prompt[0]: must not be empty", "prompt");
    auto ids = token_ids(first, "prompt[0]", vocab_size);
    if (!ids) return Unexpected{ids.error()};
    out.prompt_ids = std::move(*ids);
    out.prompt_is_ids = true;
    return {};
  }
  auto ids = token_ids(*p, "prompt", vocab_size);
  if (!ids) return Unexpected{ids.error()};
  out.prompt_ids = std::move(*ids);
  out.prompt_is_ids = true;
  return {};
}

// content: a string, or an array of parts of which only {"type": "text", "text": ...} is understood.
Result<std::string> message_content(const json& message, const std::string& at) {
  const std::string name = at + ".content";
  const json* c = member(message, "content");
  if (!c) return make_error(name + ": missing", name);
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array()) return type_error(name, "a string or an array of content parts", *c);
  std::string text;
  for (size_t i = 0; i < c->size(); ++i) {
    const json& part = (*c)[i];
    const std::string part_name = fmt::format("{}[{}]", name, i);
    if (!part.is_object()) return type_error(part_name, "an object", part, name);
    auto type = opt_string(part, "type");
    if (!type) return Unexpected{Error{part_name + "." + type.error().message, name}};
    if (!*type) return make_error(part_name + ".type: missing", name);
    if (**type != "text")
      return make_error(fmt::format("{}.type: only 'text' parts are supported, got {}", part_name,
                                    quote_for_message(**type)),
                        name);
    const json* t = member(part, "text");
    if (!t) return make_error(part_name + ".text: missing", name);
    if (!t->is_string()) return type_error(part_name + ".text", "a string", *t, name);
    text += t->get<std::string>();
  }
  return text;
}

Status read_messages(const json& body, OpenAiRequest& out) {
  const json* m = member(body, "messages");
  if (!m) return make_error("messages: missing", "messages");
  if (!m->is_array()) return type_error("messages", "an array", *m);
  if (m->empty()) return make_error("messages: must contain at least one message", "messages");
  for (size_t i = 0; i < m->size(); ++i) {
    const json& msg = (*m)[i];
    const std::string at = fmt::format("messages[{}]", i);
    if (!msg.is_object()) return type_error(at, "an object", msg, "messages");
    const json* role = member(msg, "role");
    if (!role) return make_error(at + ".role: missing", "messages");
    if (!role->is_string()) return make_error(fmt::format("{}.role: expected a string, got {}", at, role->type_name()),
                                              "messages");
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "developer" && r != "user" && r != "assistant")
      return make_error(fmt::format("{}.role: must be system, developer, user or assistant, got {}", at,
                                    quote_for_message(r)),
                        "messages");
    auto content = message_content(msg, at);
    if (!content) return Unexpected{Error{content.error().message, "messages"}};
    // "developer" is OpenAI's newer name for the system role; templates know only "system".
    out.messages.push_back(ChatTurn{r == "developer" ? "system" : r, std::move(*content)});
  }
  return {};
}

Status read_stop(const json& body, OpenAiRequest& out) {
  const json* s = member(body, "stop");
  if (!s) return {};
  std::vector<std::string> stop;
  if (s->is_string()) {
    stop.push_back(s->get<std::string>());
  } else if (s->is_array()) {
    if (s->size() > kMaxStopStrings)
      return make_error(fmt::format("stop: at most {} strings, got {}", kMaxStopStrings, s->size()), "stop");
    for (size_t i = 0; i < s->size(); ++i) {
      if (!(*s)[i].is_string()) return type_error(fmt::format("stop[{}]", i), "a string", (*s)[i], "stop");
      stop.push_back((*s)[i].get<std::string>());
    }
  } else {
    return type_error("stop", "a string or an array of strings", *s);
  }
  for (const std::string& text : stop) {
    if (text.empty()) return make_error("stop: strings must not be empty", "stop");
    if (text.size() > kMaxStopStringBytes)
      return make_error(fmt::format("stop: strings are limited to {} bytes, got {}", kMaxStopStringBytes, text.size()),
                        "stop");
  }
  out.stop = std::move(stop);
  return {};
}

// Fields whose meaning Helix cannot honour: refusing them beats answering something else.
Status refuse_unsupported(const json& body, ApiKind kind) {
  auto truthy = [&](const char* name) {
    const json* v = member(body, name);
    if (!v) return false;
    if (v->is_boolean()) return v->get<bool>();
    if (v->is_number()) return v->get<double>() != 0;
    if (v->is_string()) return !v->get<std::string>().empty();
    if (v->is_array() || v->is_object()) return !v->empty();
    return true;
  };
  for (const char* name : {"logprobs", "top_logprobs", "echo", "suffix", "tools", "functions", "logit_bias"})
    if (truthy(name)) return make_error(fmt::format("{}: not supported by this server", name), name);
  for (const char* name : {"presence_penalty", "frequency_penalty"}) {
    auto v = opt_number(body, name);
    if (!v) return Unexpected{v.error()};
    if (*v && **v != 0)
      return make_error(fmt::format("{}: not supported by this server (use repetition_penalty)", name), name);
  }
  if (kind == ApiKind::Completion) {
    auto best_of = opt_int(body, "best_of");
    if (!best_of) return Unexpected{best_of.error()};
    auto n = opt_int(body, "n");
    if (*best_of && **best_of != (n && *n ? **n : 1))
      return make_error("best_of: not supported by this server (only best_of == n)", "best_of");
  }
  return {};
}

Status read_sampling(const json& body, OpenAiRequest& out) {
  SamplingParams& s = out.sampling;
  s.temperature = 1.0f;  // OpenAI's default
  auto temperature = opt_number(body, "temperature");
  if (!temperature) return Unexpected{temperature.error()};
  if (*temperature) {
    HELIX_TRY(check_range("temperature", **temperature, 0.0, kMaxTemperature));
    s.temperature = static_cast<float>(**temperature);
  }
  auto top_p = opt_number(body, "top_p");
  if (!top_p) return Unexpected{top_p.error()};
  if (*top_p) {
    HELIX_TRY(check_range("top_p", **top_p, 0.0, 1.0, /*lo_inclusive=*/false));
    s.top_p = static_cast<float>(**top_p);
  }
  auto top_k = opt_int(body, "top_k");
  if (!top_k) return Unexpected{top_k.error()};
  if (*top_k) {
    // -1 is vLLM's spelling of "off".
    if (**top_k < -1 || **top_k > std::numeric_limits<int32_t>::max())
      return make_error(fmt::format("top_k: must be >= 0 (0 or -1: off), got {}", **top_k), "top_k");
    s.top_k = **top_k < 0 ? 0 : static_cast<int32_t>(**top_k);
  }
  auto min_p = opt_number(body, "min_p");
  if (!min_p) return Unexpected{min_p.error()};
  if (*min_p) {
    if (!(**min_p >= 0.0 && **min_p < 1.0))
      return make_error(fmt::format("min_p: must be in [0, 1), got {}", **min_p), "min_p");
    s.min_p = static_cast<float>(**min_p);
  }
  auto penalty = opt_number(body, "repetition_penalty");
  if (!penalty) return Unexpected{penalty.error()};
  if (*penalty) {
    HELIX_TRY(check_range("repetition_penalty", **penalty, 0.0, 10.0, /*lo_inclusive=*/false));
    s.repetition_penalty = static_cast<float>(**penalty);
  }
  auto seed = opt_int(body, "seed");
  if (!seed) return Unexpected{seed.error()};
  if (*seed) {
    s.seed = static_cast<uint64_t>(**seed);  // negative seeds are valid in OpenAI's API: keep their bits
    out.seed_given = true;
  }
  return s.validate();
}

}  // namespace

Result<OpenAiRequest> parse_openai_request(ApiKind kind, std::string_view body_text, int32_t vocab_size) {
  json body;
  try {
    body = json::parse(body_text);
  } catch (const json::parse_error& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ..."; keep the sentence.
    std::string_view what = e.what();
    if (auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
    return make_error(fmt::format("request body: invalid JSON: {}", what));
  }
  if (!body.is_object()) return make_error(fmt::format("request body: expected a JSON object, got {}", body.type_name()));

  OpenAiRequest out;
  out.kind = kind;
  auto model = opt_string(body, "model");
  if (!model) return Unexpected{model.error()};
  out.model = model->value_or("");

  if (kind == ApiKind::Completion) {
    HELIX_TRY(read_prompt(body, vocab_size, out));
  } else {
    HELIX_TRY(read_messages(body, out));
  }
  HELIX_TRY(refuse_unsupported(body, kind));

  // Chat has a newer name for max_tokens; when both are given they must agree.
  auto max_tokens = opt_int(body, "max_tokens");
  if (!max_tokens) return Unexpected{max_tokens.error()};
  if (*max_tokens && **max_tokens < 1)
    return make_error(fmt::format("max_tokens: must be >= 1, got {}", **max_tokens), "max_tokens");
  out.max_tokens = *max_tokens;
  if (kind == ApiKind::Chat) {
    auto mct = opt_int(body, "max_completion_tokens");
    if (!mct) return Unexpected{mct.error()};
    if (*mct && **mct < 1)
      return make_error(fmt::format("max_completion_tokens: must be >= 1, got {}", **mct), "max_completion_tokens");
    if (*mct && *max_tokens && **mct != **max_tokens)
      return make_error(fmt::format("max_completion_tokens: {} disagrees with max_tokens {}", **mct, **max_tokens),
                        "max_completion_tokens");
    if (*mct) out.max_tokens = *mct;
  }

  auto n = opt_int(body, "n");
  if (!n) return Unexpected{n.error()};
  if (*n) {
    if (**n < 1 || **n > kMaxChoices)
      return make_error(fmt::format("n: must be in [1, {}], got {}", kMaxChoices, **n), "n");
    out.n = static_cast<int32_t>(**n);
  }

  HELIX_TRY(read_sampling(body, out));
  HELIX_TRY(read_stop(body, out));

  auto stream = opt_bool(body, "stream");
  if (!stream) return Unexpected{stream.error()};
  out.stream = stream->value_or(false);
  if (const json* so = member(body, "stream_options")) {
    if (!so->is_object()) return type_error("stream_options", "an object", *so);
    auto usage = opt_bool(*so, "include_usage");
    if (!usage) return make_error("stream_options." + usage.error().message, "stream_options");
    if (!out.stream && *usage)
      return make_error("stream_options: only allowed when stream is true", "stream_options");
    out.include_usage = usage->value_or(false);
  }
  auto ignore_eos = opt_bool(body, "ignore_eos");
  if (!ignore_eos) return Unexpected{ignore_eos.error()};
  out.ignore_eos = ignore_eos->value_or(false);
  return out;
}

}  // namespace helix::server
