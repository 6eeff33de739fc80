// GET /compare/memory: the contiguous vs paged KV-cache comparison for a model preset, from theory, or with
// source=live for the running engine's sequences now (same fields).
// 400 when the request cannot be read (unparsable number, unknown or repeated parameter, or a theory parameter
// given with source=live), 422 when it can but asks for the impossible (zero, over the context, more blocks than
// the pool, unknown model, live figures without a running model).
// GET /compare/speculative: speculative_comparison.h; the same 400/422 rules, and 503 without a model.
#include <fmt/format.h>

#include "engine/serving_engine.h"
#include "kv/memory_math.h"
#include "server/api_error.h"
#include "server/memory_json.h"
#include "server/query_params.h"
#include "server/routes.h"
#include "server/speculative_comparison.h"

namespace helix::server {

namespace {

constexpr const char* kLiveNeedsModel = "source: live figures need a running model (helix serve -m FILE)";

void handle_compare_memory(const ServingEngine* engine, const httplib::Request& req, httplib::Response& res) {
  auto params = QueryParams::parse(query_of_target(req.target));
  if (!params) return send_error(res, kStatusBadRequest, params.error());
  if (auto ok = params->check({"model", "sequence_length", "max_seq_len", "block_size", "num_blocks", "batch_size",
                               "kv_dtype", "source"});
      !ok)
    return send_error(res, kStatusBadRequest, ok.error());

  MemoryQuery query;
  struct IntParam {
    const char* name;
    std::optional<int64_t>* out;
  };
  std::optional<int64_t> sequence_length, max_seq_len, block_size, num_blocks, batch_size;
  for (const IntParam& p : {IntParam{"sequence_length", &sequence_length}, IntParam{"max_seq_len", &max_seq_len},
                            IntParam{"block_size", &block_size}, IntParam{"num_blocks", &num_blocks},
                            IntParam{"batch_size", &batch_size}}) {
    auto value = params->get_int64(p.name);
    if (!value) return send_error(res, kStatusBadRequest, value.error());
    *p.out = *value;
  }

  // "live" answers from the engine: its running sequences against a contiguous cache's reservation.
  const std::string source = params->get("source").value_or("theory");
  if (source == "live") {
    if (!engine) return send_error(res, kStatusUnprocessable, kLiveNeedsModel, "source");
    for (const auto& [name, value] : params->pairs())
      if (name != "source")
        return send_error(res, kStatusBadRequest,
                          fmt::format("{}: not used with source=live (the engine's own figures)", name), name);
    return send_json(res, memory_comparison_json(engine->live_memory()));
  }
  if (source != "theory")
    return send_error(res, kStatusBadRequest,
                      fmt::format("source: must be 'theory' or 'live', got {}", quote_for_message(source)), "source");

  // Presets only: a query string must never make the server open a file.
  auto shape = find_preset(params->get("model").value_or(kDefaultPreset));
  if (!shape) return send_error(res, kStatusUnprocessable, shape.error());
  query.shape = std::move(*shape);
  const std::string dtype_text = params->get("kv_dtype").value_or("f16");
  const auto dtype = parse_dtype(dtype_text);
  if (!dtype || !is_kv_dtype(*dtype))
    return send_error(res, kStatusUnprocessable,
                      fmt::format("kv_dtype: unknown KV cache dtype {} (f32, f16, bf16, q8_0)",
                                  quote_for_message(dtype_text)),
                      "kv_dtype");
  query.shape.kv_dtype = *dtype;
  query.sequence_length = sequence_length.value_or(kDefaultSequenceLength);
  query.max_seq_len = max_seq_len;
  query.block_size = block_size.value_or(kDefaultBlockSize);
  query.num_blocks = num_blocks.value_or(kDefaultNumBlocks);
  query.batch_size = batch_size.value_or(1);

  auto comparison = compare_memory(query);
  if (!comparison) {
    // A short max_seq_len against the default sequence_length: blame the parameter the client gave.
    if (comparison.error().param == "sequence_length" && !sequence_length && max_seq_len)
      return send_error(res, kStatusUnprocessable,
                        fmt::format("max_seq_len: {} is shorter than sequence_length (default {})", *max_seq_len,
                                    query.sequence_length),
                        "max_seq_len");
    return send_error(res, kStatusUnprocessable, comparison.error());
  }
  send_json(res, memory_comparison_json(*comparison));
}

constexpr const char* kDefaultComparePrompt = "Once upon a time";
constexpr int64_t kDefaultCompareTokens = 64;

void handle_compare_speculative(ServingEngine* engine, const httplib::Request& req, httplib::Response& res) {
  auto params = QueryParams::parse(query_of_target(req.target));
  if (!params) return send_error(res, kStatusBadRequest, params.error());
  if (auto ok = params->check({"prompt", "max_tokens", "method", "spec_tokens"}); !ok)
    return send_error(res, kStatusBadRequest, ok.error());
  if (!engine)
    return send_error(res, kStatusUnavailable, "no model loaded: start the server with a model (helix serve -m FILE)");
  auto max_tokens = params->get_int64("max_tokens");
  if (!max_tokens) return send_error(res, kStatusBadRequest, max_tokens.error());
  auto spec_tokens = params->get_int64("spec_tokens");
  if (!spec_tokens) return send_error(res, kStatusBadRequest, spec_tokens.error());

  SpeculativeCompareQuery query;
  query.max_tokens = max_tokens->value_or(kDefaultCompareTokens);
  if (query.max_tokens < 1 || query.max_tokens > kMaxCompareTokens)
    return send_error(res, kStatusUnprocessable,
                      fmt::format("max_tokens: must be between 1 and {}, got {}", kMaxCompareTokens, query.max_tokens),
                      "max_tokens");
  const ServingOptions& so = engine->options();
  const int64_t k = spec_tokens->value_or(so.spec_tokens);
  if (k < 1 || k > kMaxSpecTokens)
    return send_error(res, kStatusUnprocessable,
                      fmt::format("spec_tokens: must be between 1 and {}, got {}", kMaxSpecTokens, k), "spec_tokens");
  query.spec_tokens = static_cast<int32_t>(k);
  query.method = so.spec_method == SpecMethod::None ? SpecMethod::Ngram : so.spec_method;
  if (auto method = params->get("method")) {
    if (*method != "ngram" && *method != "draft")
      return send_error(res, kStatusUnprocessable,
                        fmt::format("method: must be ngram or draft, got {}", quote_for_message(*method)), "method");
    query.method = *method == "draft" ? SpecMethod::Draft : SpecMethod::Ngram;
  }
  if (query.method == SpecMethod::Draft && !engine->has_draft_model())
    return send_error(res, kStatusUnprocessable,
                      "method: draft needs a draft model (start the server with --draft-model FILE)", "method");
  query.prompt = engine->tokenizer().encode(params->get("prompt").value_or(kDefaultComparePrompt), /*add_bos=*/true);
  if (query.prompt.empty()) return send_error(res, kStatusUnprocessable, "prompt: encodes to no tokens", "prompt");

  auto body = compare_speculative(*engine, query);
  if (!body) {
    const Error& e = body.error();
    // A refusal names what the client gave (prompt too long, max_tokens over the context); without a param the
    // engine is stopping.
    return send_error(res, e.param.empty() ? kStatusUnavailable : kStatusUnprocessable, e);
  }
  send_json(res, *body);
}

}  // namespace

void add_compare_routes(HttpServer& server, ServingEngine* engine) {
  server.add_route(HttpMethod::Get, "/compare/memory", [engine](const httplib::Request& req, httplib::Response& res) {
    handle_compare_memory(engine, req, res);
  });
  server.add_route(HttpMethod::Get, "/compare/speculative",
                   [engine](const httplib::Request& req, httplib::Response& res) {
                     handle_compare_speculative(engine, req, res);
                   });
}

}  // namespace helix::server
