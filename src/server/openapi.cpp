#include "server/openapi.h"

#include <string>

#include <fmt/format.h>

#include "kv/memory_math.h"
#include "model/model_shape.h"

namespace helix::server {

namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json response_ref(const std::string& name) { return {{"$ref", "#/components/responses/" + name}}; }

json json_response(const std::string& description, const json& schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}

json field(const char* type, const std::string& description) {
  return {{"type", type}, {"description", description}};
}

json int_param(const char* name, const std::string& description, std::optional<int64_t> default_value,
               std::optional<int64_t> maximum) {
  json schema = {{"type", "integer"}, {"format", "int64"}, {"minimum", 1}};
  if (default_value) schema["default"] = *default_value;
  if (maximum) schema["maximum"] = *maximum;
  return {{"name", name}, {"in", "query"}, {"required", false}, {"description", description}, {"schema", schema}};
}

json preset_names() {
  json names = json::array();
  for (const auto& p : model_presets()) names.push_back(p.name);
  return names;
}

json error_schema() {
  return {
      {"type", "object"},
      {"description", "OpenAI-style error body."},
      {"required", {"error"}},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"required", {"message", "type", "param", "code"}},
          {"properties",
           {{"message", field("string", "What is wrong, naming the culprit.")},
            {"type", field("string", "invalid_request_error for 4xx, server_error for 5xx.")},
            {"param", {{"type", "string"}, {"nullable", true}, {"description", "The parameter at fault, if any."}}},
            {"code", {{"type", "string"}, {"nullable", true}, {"description", "Always null for now."}}}}}}}}},
  };
}

json memory_comparison_schema() {
  json props = {
      {"traditional_memory_mb", field("number", "Contiguous cache: batch_size * max_seq_len tokens reserved, in MiB "
                                                "(mb means MiB, 2^20 bytes), 2 decimals.")},
      {"paged_memory_mb", field("number", "Paged cache: blocks_used * block_size tokens, in MiB (2^20 bytes), "
                                          "2 decimals.")},
      {"memory_saved_mb", field("number", "traditional - paged, in MiB (2^20 bytes), 2 decimals.")},
      {"memory_saved_percent", field("number", "100 * saved / traditional, 2 decimals.")},
      {"num_blocks", field("integer", "Blocks in the paged pool.")},
      {"block_size", field("integer", "Tokens per block.")},
      {"blocks_used", field("integer", "batch_size * ceil(sequence_length / block_size).")},
      {"blocks_free", field("integer", "num_blocks - blocks_used.")},
      {"utilization_percent", field("number", "100 * blocks_used / num_blocks, 2 decimals.")},
      {"sequence_length", field("integer", "Tokens held by each sequence.")},
      {"model", field("string", "Model preset name.")},
      {"kv_dtype", field("string", "KV cache element type.")},
      {"max_seq_len", field("integer", "Tokens a contiguous cache reserves per sequence.")},
      {"batch_size", field("integer", "Number of sequences.")},
      {"kv_bytes_per_token", field("integer", "n_layers * 2 (K and V) * n_kv_heads * head_dim * dtype bytes.")},
      {"traditional_bytes", field("integer", "Exact bytes of the contiguous cache.")},
      {"paged_bytes", field("integer", "Exact bytes of the blocks used.")},
      {"memory_saved_bytes", field("integer", "traditional_bytes - paged_bytes.")},
      {"pool_bytes", field("integer", "Bytes of the whole pool: num_blocks * block_size * kv_bytes_per_token.")},
      {"pool_memory_mb", field("number", "pool_bytes in MiB (2^20 bytes), 2 decimals.")},
      {"pool_tokens", field("integer", "Token slots in the pool: num_blocks * block_size.")},
      {"traditional_wasted_tokens", field("integer", "Reserved slots holding no token: batch * (max_seq_len - "
                                                     "sequence_length).")},
      {"paged_wasted_tokens", field("integer", "Unfilled slots in each sequence's last block.")},
      {"sequences_fit_traditional", field("integer", "Sequences the pool's bytes hold when each reserves "
                                                     "max_seq_len tokens.")},
      {"sequences_fit_paged", field("integer", "Sequences the pool holds when each takes its blocks.")},
  };
  json required = json::array();
  for (const auto& [name, schema] : props.items()) required.push_back(name);
  return {{"type", "object"},
          {"description", "Contiguous vs paged KV cache. Fields named *_mb are MiB (2^20 bytes), not 10^6 bytes."},
          {"required", required},
          {"properties", props}};
}

json model_shape_schema() {
  return {{"type", "object"},
          {"properties",
           {{"name", field("string", "Preset name.")},
            {"n_layers", field("integer", "Transformer blocks.")},
            {"n_heads", field("integer", "Query heads.")},
            {"n_kv_heads", field("integer", "Key/value heads (fewer than n_heads: grouped-query attention).")},
            {"head_dim", field("integer", "Width of one head.")},
            {"hidden_dim", field("integer", "Embedding width.")},
            {"ffn_dim", field("integer", "SwiGLU hidden width.")},
            {"vocab_size", field("integer", "Vocabulary size.")},
            {"context_length", field("integer", "Longest sequence the model was built for.")},
            {"kv_dtype", field("string", "KV cache element type the byte figures use (f16).")},
            {"rope_freq_base", field("number", "RoPE frequency base.")},
            {"rms_norm_eps", field("number", "RMSNorm epsilon.")},
            {"tied_embeddings", field("boolean", "Whether the classifier shares the token embedding.")},
            {"kv_bytes_per_token", field("integer", "KV cache bytes per token at kv_dtype.")},
            {"parameter_count", field("integer", "Total weights.")},
            {"uses_gqa", field("boolean", "Whether n_kv_heads < n_heads.")}}}};
}

json compare_memory_operation() {
  json parameters = json::array({
      {{"name", "model"},
       {"in", "query"},
       {"required", false},
       {"description", "Model preset (see GET /models/presets)."},
       {"schema", {{"type", "string"}, {"default", kDefaultPreset}, {"enum", preset_names()}}}},
      int_param("sequence_length", "Tokens held by each sequence; 1..max_seq_len.", kDefaultSequenceLength,
                std::nullopt),
      int_param("max_seq_len",
                "Tokens a contiguous cache reserves per sequence; 1..the model's context length. "
                "Default: the model's context length.",
                std::nullopt, std::nullopt),
      int_param("block_size", fmt::format("Tokens per KV block; 1..{}.", kMaxBlockSize), kDefaultBlockSize,
                kMaxBlockSize),
      int_param("num_blocks",
                fmt::format("Blocks in the paged pool; 1..{}. Must hold batch_size * ceil(sequence_length / "
                            "block_size) blocks.",
                            kMaxNumBlocks),
                kDefaultNumBlocks, kMaxNumBlocks),
      int_param("batch_size", fmt::format("Sequences, each of sequence_length tokens; 1..{}.", kMaxBatchSize), 1,
                kMaxBatchSize),
      {{"name", "kv_dtype"},
       {"in", "query"},
       {"required", false},
       {"description", "KV cache element type (q8_0: 34 bytes per 32 values)."},
       {"schema", {{"type", "string"}, {"default", "f16"}, {"enum", {"f32", "f16", "bf16", "q8_0"}}}}},
      {{"name", "source"},
       {"in", "query"},
       {"required", false},
       {"description", "theory: computed from the model shape. live: the running engine's sequences now (paged = "
                       "blocks they hold, traditional = max_seq_len reserved for each); the other parameters do "
                       "not apply (400). Answers 422 when the server runs no model (helix serve without -m)."},
       {"schema", {{"type", "string"}, {"default", "theory"}, {"enum", {"theory", "live"}}}}},
  });
  return {
      {"summary", "Contiguous vs paged KV-cache memory"},
      {"description",
       "Exact KV-cache bytes for batch_size sequences of sequence_length tokens: a contiguous cache that "
       "reserves max_seq_len tokens per sequence versus a paged cache of block_size-token blocks. "
       "Fields named *_mb are MiB (2^20 bytes): mb means MiB. Integers must be plain decimal; unknown or "
       "repeated parameters are refused."},
      {"operationId", "compareMemory"},
      {"tags", {"memory"}},
      {"parameters", parameters},
      {"responses",
       {{"200", json_response("The comparison.", ref("MemoryComparison"))},
        {"400", response_ref("BadRequest")},
        {"422", response_ref("Unprocessable")},
        {"405", response_ref("MethodNotAllowed")}}},
  };
}

json get_only(json operation) { return {{"get", std::move(operation)}}; }

}  // namespace

json openapi_document() {
  json paths;
  paths["/health"] = get_only({{"summary", "Liveness"},
                               {"operationId", "health"},
                               {"tags", {"meta"}},
                               {"responses", {{"200", json_response("Up.", ref("Health"))}}}});
  paths["/models/presets"] = get_only(
      {{"summary", "Built-in model shapes"},
       {"description", "Each preset's shape with its f16 KV bytes per token and parameter count."},
       {"operationId", "listPresets"},
       {"tags", {"models"}},
       {"responses", {{"200", json_response("The presets and the default one.", ref("PresetList"))}}}});
  paths["/compare/memory"] = get_only(compare_memory_operation());
  paths["/openapi.json"] = get_only({{"summary", "This document"},
                                     {"operationId", "openapi"},
                                     {"tags", {"meta"}},
                                     {"responses", {{"200", json_response("OpenAPI 3.0.3.", {{"type", "object"}})}}}});
  paths["/docs"] = get_only(
      {{"summary", "Swagger UI for this document"},
       {"operationId", "docs"},
       {"tags", {"meta"}},
       {"responses",
        {{"200", {{"description", "HTML page."}, {"content", {{"text/html", {{"schema", {{"type", "string"}}}}}}}}},
         {"503", {{"description", "swagger-ui-dist is not installed (run make)."},
                  {"content", {{"application/json", {{"schema", ref("Error")}}}}}}}}}});

  json schemas = {
      {"Error", error_schema()},
      {"MemoryComparison", memory_comparison_schema()},
      {"ModelShape", model_shape_schema()},
      {"ModelPreset",
       {{"type", "object"},
        {"properties",
         {{"name", field("string", "Preset name (the model parameter).")},
          {"description", field("string", "What the shape is.")},
          {"shape", ref("ModelShape")}}}}},
      {"PresetList",
       {{"type", "object"},
        {"properties",
         {{"default", field("string", "The preset used when model is not given.")},
          {"presets", {{"type", "array"}, {"items", ref("ModelPreset")}}}}}}},
      {"Health",
       {{"type", "object"},
        {"properties",
         {{"status", field("string", "\"ok\".")},
          {"version", field("string", "Helix version.")},
          {"model_loaded", field("boolean", "Whether a model is served (/v1, /kv/*, live /compare/memory).")}}}}},
  };
  json error_content = {{"application/json", {{"schema", ref("Error")}}}};
  json responses = {
      {"BadRequest",
       {{"description", "Malformed request: an unparsable value, an unknown or repeated parameter. "
                        "error.param names it."},
        {"content", error_content}}},
      {"Unprocessable",
       {{"description", "Well-formed but invalid: zero, negative or out of range, over the model's context, more "
                        "blocks than the pool, unknown model or dtype. error.param names it."},
        {"content", error_content}}},
      {"NotFound", {{"description", "No such route."}, {"content", error_content}}},
      {"MethodNotAllowed", {{"description", "The route exists for other methods (see Allow)."},
                            {"content", error_content}}},
  };

  add_serving_openapi(paths, schemas);
  add_speculative_openapi(paths, schemas);

  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Helix API"},
        {"version", HELIX_VERSION},
        {"description",
         "Helix: an LLM inference server with a PagedAttention KV cache. Memory figures named *_mb are MiB "
         "(mb means MiB: 2^20 bytes). Errors use OpenAI's shape: {\"error\": {\"message\", \"type\", \"param\", "
         "\"code\"}}; 400 means the request cannot be read, 422 that it asks for something invalid, except on the "
         "OpenAI routes (/v1/*), which answer 400 for every invalid body as OpenAI does. The /v1, /metrics and "
         "/kv routes exist when the server runs a model (helix serve -m FILE)."}}},
      {"tags",
       {{{"name", "memory"}, {"description", "KV-cache memory arithmetic"}},
        {{"name", "models"}, {"description", "Model shapes"}},
        {{"name", "openai"}, {"description", "OpenAI-compatible generation (with a model loaded)"}},
        {{"name", "engine"}, {"description", "The serving engine: metrics and the live KV cache"}},
        {{"name", "speculative"}, {"description", "Speculative decoding compared with plain decoding"}},
        {{"name", "meta"}, {"description", "Health and documentation"}}}},
      {"paths", paths},
      {"components", {{"schemas", schemas}, {"responses", responses}}},
  };
}

}  // namespace helix::server
