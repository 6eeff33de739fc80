// GET /compare/memory: the contiguous vs paged KV-cache comparison for a model preset, from theory, or with
// source=live for the running engine's sequences now (same fields).
// 400 when the request cannot be read (unparsable number, unknown or repeated parameter, or a theory parameter
// given with source=live), 422 when it can but asks for the impossible (zero, over the context, more blocks than
// the pool, unknown model, live figures without a running model).
#include <fmt/format.h>

#include "engine/serving_engine.h"
#include "kv/memory_math.h"
#include "server/api_error.h"
#include "server/memory_json.h"
#include "server/query_params.h"
#include "server/routes.h"

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

}  // namespace

void add_compare_routes(HttpServer& server, const ServingEngine* engine) {
  server.add_route(HttpMethod::Get, "/compare/memory", [engine](const httplib::Request& req, httplib::Response& res) {
    handle_compare_memory(engine, req, res);
  });
}

}  // namespace helix::server
