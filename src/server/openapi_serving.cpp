// The OpenAPI description of the serving routes (/v1/*, /metrics, /kv/*), present when `helix serve -m FILE`
// runs a model.
#include <fmt/format.h>

#include "server/openai_request.h"
#include "server/openapi.h"

namespace helix::server {

namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json field(const char* type, const std::string& description) { return {{"type", type}, {"description", description}}; }
json nullable(json schema) {
  schema["nullable"] = true;
  return schema;
}
json array_of(json items, const std::string& description) {
  return {{"type", "array"}, {"items", std::move(items)}, {"description", description}};
}
json object(json properties, json required = json::array(), const std::string& description = {}) {
  json o = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) o["required"] = std::move(required);
  if (!description.empty()) o["description"] = description;
  return o;
}
json content(const char* media_type, const json& schema) { return {{media_type, {{"schema", schema}}}}; }
json error_response(const std::string& description) {
  return {{"description", description}, {"content", content("application/json", ref("Error"))}};
}

// Fields both generation requests share.
json sampling_properties() {
  return {
      {"model", field("string", "Ignored: the server runs one model and answers with its name.")},
      {"max_tokens", {{"type", "integer"}, {"minimum", 1},
                      {"description", "Most tokens to generate per choice. Default: 16 for completions, the rest "
                                      "of the context for chat. prompt + max_tokens must fit the context "
                                      "(400 context_length_exceeded)."}}},
      {"temperature", {{"type", "number"}, {"minimum", 0}, {"maximum", kMaxTemperature}, {"default", 1},
                       {"description", "0 is greedy (argmax)."}}},
      {"top_p", {{"type", "number"}, {"exclusiveMinimum", true}, {"minimum", 0}, {"maximum", 1}, {"default", 1}}},
      {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxChoices}, {"default", 1},
             {"description", "Choices sampled from the same prompt (they share its KV blocks)."}}},
      {"stop", {{"oneOf", {json{{"type", "string"}}, array_of({{"type", "string"}}, "")}},
                {"description", fmt::format("Up to {} strings of at most {} bytes, matched on the generated text: "
                                            "the output ends before the first one (finish_reason stop).",
                                            kMaxStopStrings, kMaxStopStringBytes)}}},
      {"seed", field("integer", "Makes sampling reproducible. Default: random.")},
      {"stream", {{"type", "boolean"}, {"default", false},
                  {"description", "Server-sent events: one chunk per piece of text, a last chunk per choice with "
                                  "its finish_reason, then data: [DONE]."}}},
      {"stream_options", object({{"include_usage", field("boolean", "Adds \"usage\": null to every chunk and a "
                                                                    "last chunk with no choices and the usage.")}})},
      {"top_k", {{"type", "integer"}, {"minimum", -1}, {"default", 0},
                 {"description", "Helix extra: keep the k most likely tokens (0 or -1: off)."}}},
      {"min_p", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}, {"default", 0},
                 {"description", "Helix extra: keep tokens with p >= min_p * p_max (0: off; below 1)."}}},
      {"repetition_penalty", {{"type", "number"}, {"minimum", 0}, {"maximum", 10}, {"default", 1},
                              {"description", "Helix extra: > 1 discourages recent tokens (1: off)."}}},
      {"ignore_eos", {{"type", "boolean"}, {"default", false},
                      {"description", "Helix extra: keep generating past end-of-sequence tokens."}}},
      {"presence_penalty", field("number", "Only 0 is accepted (use repetition_penalty).")},
      {"frequency_penalty", field("number", "Only 0 is accepted (use repetition_penalty).")},
  };
}

json completion_request_schema() {
  json props = sampling_properties();
  props["prompt"] = {
      {"oneOf", {json{{"type", "string"}}, array_of({{"type", "integer"}}, "Token ids, taken as given (no BOS added).")}},
      {"description", "One prompt: text (BOS added as the tokenizer wants; \"\" starts from BOS) or token ids. A "
                      "one-element array of either is accepted too."}};
  props["best_of"] = field("integer", "Only best_of == n is accepted.");
  return object(props, {"prompt"},
                "OpenAI's completion request. Unknown fields are ignored; echo, logprobs and suffix are refused.");
}

json chat_request_schema() {
  json props = sampling_properties();
  props["messages"] = array_of(ref("ChatMessage"), "The conversation, rendered with the model's chat template.");
  props["max_completion_tokens"] = {{"type", "integer"}, {"minimum", 1}, {"description", "Same as max_tokens."}};
  return object(props, {"messages"},
                "OpenAI's chat completion request. Unknown fields are ignored; logprobs and tools are refused.");
}

json usage_schema() {
  return object({{"prompt_tokens", field("integer", "Tokens in the prompt (BOS and template included).")},
                 {"completion_tokens", field("integer", "Tokens generated over all choices, up to each one's end "
                                                        "(the tokens of a stop string and an end-of-sequence "
                                                        "token included).")},
                 {"total_tokens", field("integer", "prompt_tokens + completion_tokens.")},
                 {"prompt_tokens_details",
                  object({{"cached_tokens", field("integer", "Prompt tokens served from the prefix cache.")}})}},
                {"prompt_tokens", "completion_tokens", "total_tokens"});
}

json finish_reason_schema() {
  return {{"type", "string"},
          {"nullable", true},
          {"enum", {"stop", "length", "abort", nullptr}},
          {"description", "stop: an end-of-sequence token or a stop string; length: max_tokens or the context; "
                          "abort: the server stopped the request (shutdown). null in chunks before the last."}};
}

json response_header(const char* object_name, const char* id_prefix) {
  return {{"id", field("string", fmt::format("\"{}-\" and 24 hex digits; the same in every chunk.", id_prefix))},
          {"object", {{"type", "string"}, {"enum", {object_name}}}},
          {"created", field("integer", "Unix seconds.")},
          {"model", field("string", "The served model name.")}};
}

json completion_schema(bool chunk) {
  json choice = object({{"index", field("integer", "Which choice (0..n-1).")},
                        {"text", field("string", chunk ? "The new text (\"\" in the last chunk)." : "The text.")},
                        {"logprobs", nullable(field("object", "Always null."))},
                        {"finish_reason", finish_reason_schema()}});
  json props = response_header("text_completion", "cmpl");
  props["choices"] = array_of(choice, chunk ? "One choice per chunk." : "One per choice, by index.");
  props["usage"] = chunk ? nullable(ref("Usage")) : ref("Usage");
  return object(props, {"id", "object", "created", "model", "choices"});
}

json chat_schema(bool chunk) {
  json message = chunk ? object({{"role", {{"type", "string"}, {"enum", {"assistant"}},
                                           {"description", "Only in a choice's first chunk."}}},
                                 {"content", field("string", "The new text (absent in the last chunk).")}},
                                {}, "delta")
                       : object({{"role", {{"type", "string"}, {"enum", {"assistant"}}}},
                                 {"content", field("string", "The reply.")}});
  json choice = object({{"index", field("integer", "Which choice (0..n-1).")},
                        {chunk ? "delta" : "message", message},
                        {"logprobs", nullable(field("object", "Always null."))},
                        {"finish_reason", finish_reason_schema()}});
  json props = response_header(chunk ? "chat.completion.chunk" : "chat.completion", "chatcmpl");
  props["choices"] = array_of(choice, chunk ? "One choice per chunk; none in the usage chunk." : "One per choice.");
  props["usage"] = chunk ? nullable(ref("Usage")) : ref("Usage");
  return object(props, {"id", "object", "created", "model", "choices"});
}

json generation_operation(const std::string& summary, const std::string& id, const std::string& request,
                          const std::string& response, const std::string& chunk) {
  json ok = {{"description", "The result, or with stream: true server-sent events (data: {" + chunk +
                                 "} lines, then data: [DONE]; an engine failure mid-stream sends data: {error} "
                                 "before [DONE])."},
             {"content",
              {{"application/json", {{"schema", ref(response)}}},
               {"text/event-stream", {{"schema", {{"type", "string"}, {"description", "SSE of " + chunk}}}}}}}};
  return {{"summary", summary},
          {"operationId", id},
          {"tags", {"openai"}},
          {"requestBody", {{"required", true}, {"content", content("application/json", ref(request))}}},
          {"responses",
           {{"200", ok},
            {"400", error_response("Invalid body: unparsable JSON, a wrong type, a value out of range, a missing "
                                   "prompt or messages (\"messages[2].role: missing\"), an unsupported field, "
                                   "a request the KV pool can never hold. error.param names the field. A prompt "
                                   "that fills the context, or prompt + max_tokens over it, has code "
                                   "context_length_exceeded and the limit in the message.")},
            {"413", error_response("Body over the server's size limit.")},
            {"500", error_response("The engine failed the request.")},
            {"503", error_response("The engine no longer accepts requests, or cancelled this one: the server is "
                                   "shutting down.")}}}};
}

json kv_blocks_schema() {
  json block = object({{"id", field("integer", "Block id (index in the pool).")},
                       {"ref_count", field("integer", "Sequences holding it.")},
                       {"tokens_filled", field("integer", "Token slots written (block_size for a full block).")},
                       {"cached", field("boolean", "A findable prefix block (its tokens hashed).")},
                       {"free", field("boolean", "In the free queue (may still be cached).")},
                       {"owners", array_of({{"type", "integer"}}, "Sequence ids holding it, ascending.")}});
  json seq = object({{"seq", field("integer", "Sequence id.")},
                     {"num_tokens", field("integer", "Tokens in the KV cache.")},
                     {"last_block_fill", field("integer", "Slots used in its last block.")},
                     {"num_cached_blocks", field("integer", "Leading blocks with known prefix keys.")},
                     {"block_ids", array_of({{"type", "integer"}}, "Its block table.")}});
  return object({{"block_size", field("integer", "Tokens per block.")},
                 {"num_blocks", field("integer", "Blocks in the pool.")},
                 {"used_blocks", field("integer", "Blocks held by sequences.")},
                 {"free_blocks", field("integer", "num_blocks - used_blocks.")},
                 {"cached_blocks", field("integer", "Blocks holding a cached prefix.")},
                 {"usage", field("number", "used_blocks / num_blocks, 0..1.")},
                 {"prefix_cache", object({{"lookups", field("integer", "Prefix lookups.")},
                                          {"queried_tokens", field("integer", "Prompt tokens looked up.")},
                                          {"hit_tokens", field("integer", "Tokens found cached.")}})},
                 {"blocks", array_of(block, "Every block, by id.")},
                 {"sequences", array_of(seq, "Every sequence, by id.")},
                 {"free_queue", array_of({{"type", "integer"}}, "Free blocks, next evicted first.")},
                 {"draft", object({{"block_size", field("integer", "Tokens per block (the target's).")},
                                   {"num_blocks", field("integer", "Blocks in the draft model's pool.")},
                                   {"used_blocks", field("integer", "Blocks held.")},
                                   {"free_blocks", field("integer", "num_blocks - used_blocks.")},
                                   {"usage", field("number", "used_blocks / num_blocks, 0..1.")},
                                   {"sequences",
                                    array_of(object({{"seq", field("integer", "The target's sequence id.")},
                                                     {"num_tokens", field("integer", "Tokens in the draft cache.")},
                                                     {"block_ids", array_of({{"type", "integer"}}, "")}}),
                                             "Sequences the draft model drafts for.")}},
                                  {}, "The draft model's own KV pool; present only with --draft-model.")}});
}

json kv_event_schema() {
  return object({{"index", field("integer", "Position in this stream (a dropped event's index is skipped).")},
                 {"type", {{"type", "string"},
                           {"enum", {"allocate", "free", "prefix_hit", "cache", "evict", "cow", "fork", "preempt",
                                     "dropped"}},
                           {"description", "dropped: the client fell behind its queue and `count` events were "
                                           "lost (re-read /kv/blocks)."}}},
                 {"seq", nullable(field("integer", "The sequence; null for pool events (evict)."))},
                 {"blocks", array_of({{"type", "integer"}}, "Block ids concerned.")},
                 {"count", field("integer", "For dropped: how many events were lost.")},
                 {"timestamp", field("integer", "Milliseconds since the Unix epoch.")}});
}

json histogram_schema() {
  return object({{"buckets", array_of(object({{"le", field("number", "Upper bound, seconds.")},
                                              {"count", field("integer", "Observations <= le (cumulative).")}}),
                                      "")},
                 {"count", field("integer", "Observations.")},
                 {"sum", field("number", "Sum of the observations, seconds.")}});
}

json metrics_json_schema() {
  return object({{"sequences_running", field("integer", "Sequences in the running batch (n per request with n "
                                                        "choices).")},
                 {"sequences_waiting", field("integer", "Sequences queued (preempted ones included).")},
                 {"kv_blocks_used", field("integer", "Blocks held.")},
                 {"kv_blocks_total", field("integer", "Blocks in the pool.")},
                 {"kv_usage_ratio", field("number", "Used over total, 0..1.")},
                 {"preemptions_total", {{"type", "object"}, {"additionalProperties", {{"type", "integer"}}},
                                        {"description", "Preemptions by reason (kv_cache_full, ...)."}}},
                 {"prefix_cache_queried_tokens_total", field("integer", "Prompt tokens looked up.")},
                 {"prefix_cache_hit_tokens_total", field("integer", "Prompt tokens served from the cache.")},
                 {"prompt_tokens_total", field("integer", "Prompt tokens processed.")},
                 {"generation_tokens_total", field("integer", "Tokens generated.")},
                 {"requests_total", object({{"finished", field("integer", "")},
                                            {"cancelled", field("integer", "")},
                                            {"rejected", field("integer", "")}})},
                 {"time_to_first_token_seconds", ref("Histogram")},
                 {"time_per_output_token_seconds", ref("Histogram")},
                 {"request_latency_seconds", ref("Histogram")},
                 {"spec_proposed_tokens_total", field("integer", "Speculative draft tokens verified.")},
                 {"spec_accepted_tokens_total", field("integer", "Draft tokens accepted.")},
                 {"spec_verify_steps_total", field("integer", "Sequence steps that verified drafts.")},
                 {"spec_accepted_per_step", array_of({{"type", "integer"}}, "[n]: verification steps that kept "
                                                                            "exactly n drafts.")},
                 {"draft_kv_blocks_used", field("integer", "Draft model KV blocks held (0 without one).")},
                 {"draft_kv_blocks_total", field("integer", "Draft model KV pool blocks (0 without one).")}});
}

json get(json operation) { return {{"get", std::move(operation)}}; }

}  // namespace

void add_serving_openapi(nlohmann::json& paths, nlohmann::json& schemas) {
  paths["/v1/completions"] = {{"post", generation_operation("Text completion (OpenAI)", "createCompletion",
                                                            "CompletionRequest", "Completion", "CompletionChunk")}};
  paths["/v1/chat/completions"] = {
      {"post", generation_operation("Chat completion (OpenAI)", "createChatCompletion", "ChatCompletionRequest",
                                    "ChatCompletion", "ChatCompletionChunk")}};
  paths["/v1/models"] = get({{"summary", "The served model (OpenAI)"},
                             {"operationId", "listModels"},
                             {"tags", {"openai"}},
                             {"responses", {{"200", {{"description", "A list of one model."},
                                                     {"content", content("application/json", ref("ModelList"))}}}}}});
  paths["/v1/models/{model}"] = get(
      {{"summary", "One model (OpenAI)"},
       {"operationId", "retrieveModel"},
       {"tags", {"openai"}},
       {"parameters", {{{"name", "model"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
       {"responses", {{"200", {{"description", "The model."}, {"content", content("application/json", ref("Model"))}}},
                      {"404", error_response("Not the served model (code model_not_found).")}}}});
  paths["/metrics"] = get(
      {{"summary", "Engine metrics"},
       {"description",
        "Prometheus text format (helix_* gauges, counters and histograms of time to first token, time per output "
        "token and request latency); JSON of the same figures with Accept: application/json."},
       {"operationId", "metrics"},
       {"tags", {"engine"}},
       {"responses", {{"200", {{"description", "The metrics."},
                               {"content",
                                {{"text/plain", {{"schema", {{"type", "string"}}}}},
                                 {"application/json", {{"schema", ref("Metrics")}}}}}}}}}});
  paths["/kv/blocks"] = get({{"summary", "The KV cache's block map now"},
                             {"operationId", "kvBlocks"},
                             {"tags", {"engine"}},
                             {"responses", {{"200", {{"description", "Every block and sequence."},
                                                     {"content", content("application/json", ref("KvBlocks"))}}}}}});
  paths["/kv/events"] = get(
      {{"summary", "KV cache events as they happen (server-sent events)"},
       {"description", "data: {KvEvent} per event; a ': keep-alive' comment when idle. Each client has a bounded "
                       "queue: past it the oldest events are dropped and a 'dropped' event says how many."},
       {"operationId", "kvEvents"},
       {"tags", {"engine"}},
       {"responses", {{"200", {{"description", "An endless event stream."},
                               {"content", content("text/event-stream", ref("KvEvent"))}}}}}});

  schemas["CompletionRequest"] = completion_request_schema();
  schemas["ChatCompletionRequest"] = chat_request_schema();
  schemas["ChatMessage"] = object(
      {{"role", {{"type", "string"}, {"enum", {"system", "developer", "user", "assistant"}}}},
       {"content", {{"oneOf", {json{{"type", "string"}},
                               array_of(object({{"type", {{"type", "string"}, {"enum", {"text"}}}},
                                                {"text", {{"type", "string"}}}}),
                                        "Text parts, joined.")}}}}},
      {"role", "content"});
  schemas["Usage"] = usage_schema();
  schemas["Completion"] = completion_schema(false);
  schemas["CompletionChunk"] = completion_schema(true);
  schemas["ChatCompletion"] = chat_schema(false);
  schemas["ChatCompletionChunk"] = chat_schema(true);
  schemas["Model"] = object({{"id", field("string", "The served model name (--served-model-name).")},
                             {"object", {{"type", "string"}, {"enum", {"model"}}}},
                             {"created", field("integer", "Unix seconds the server started.")},
                             {"owned_by", field("string", "\"helix\".")},
                             {"max_model_len", field("integer", "Longest sequence (prompt + completion).")}});
  schemas["ModelList"] = object({{"object", {{"type", "string"}, {"enum", {"list"}}}},
                                 {"data", array_of(ref("Model"), "The one served model.")}});
  schemas["KvBlocks"] = kv_blocks_schema();
  schemas["KvEvent"] = kv_event_schema();
  schemas["Histogram"] = histogram_schema();
  schemas["Metrics"] = metrics_json_schema();
}

}  // namespace helix::server
