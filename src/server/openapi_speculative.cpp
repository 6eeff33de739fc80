// The OpenAPI description of GET /compare/speculative (speculative_comparison.h).
#include <fmt/format.h>

#include "engine/serving_engine.h"
#include "server/openapi.h"
#include "server/speculative_comparison.h"

namespace helix::server {

namespace {

using nlohmann::json;

json ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
json field(const char* type, const std::string& description) { return {{"type", type}, {"description", description}}; }
json error_response(const std::string& description) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", ref("Error")}}}}}};
}
json int_param(const char* name, const std::string& description, int64_t maximum) {
  return {{"name", name},
          {"in", "query"},
          {"required", false},
          {"description", description},
          {"schema", {{"type", "integer"}, {"format", "int64"}, {"minimum", 1}, {"maximum", maximum}}}};
}

json run_properties() {
  return {{"tokens_per_second", field("number", "generated_tokens / seconds.")},
          {"generated_tokens", field("integer", "Tokens generated (fewer than max_tokens when EOS came first).")},
          {"seconds", field("number", "From submission to the last token.")},
          {"target_forwards", field("integer", "Engine steps whose target forward computed tokens of this request.")}};
}

json comparison_schema() {
  json speculative = run_properties();
  speculative["proposed"] = field("integer", "Draft tokens the target verified.");
  speculative["accepted"] = field("integer", "Draft tokens accepted (and emitted).");
  json token = {{"type", "object"},
                {"properties",
                 {{"id", field("integer", "Token id.")},
                  {"text", field("string", "The token's text (after the previous token).")},
                  {"source", {{"type", "string"},
                              {"enum", {"draft", "target"}},
                              {"description", "draft: an accepted draft token; target: produced by the target (the "
                                              "first token, a correction after a rejection, or the bonus token)."}}},
                  {"baseline_ms", field("number", "Milliseconds from submission to this token's arrival in the "
                                                  "baseline run (null when the baseline produced fewer tokens).")},
                  {"speculative_ms", field("number", "The same in the speculative run.")}}}};
  return {{"type", "object"},
          {"properties",
           {{"model", field("string", "The loaded model.")},
            {"method", {{"type", "string"}, {"enum", {"ngram", "draft"}}}},
            {"spec_tokens", field("integer", "K: most drafts verified per step.")},
            {"prompt_tokens", field("integer", "Prompt tokens (BOS included).")},
            {"max_tokens", field("integer", "Most tokens generated per run.")},
            {"baseline", {{"type", "object"}, {"properties", run_properties()}}},
            {"speculative", {{"type", "object"}, {"properties", speculative}}},
            {"speedup", field("number", "speculative.tokens_per_second / baseline.tokens_per_second.")},
            {"acceptance_rate", field("number", "accepted / proposed (0 when nothing was proposed).")},
            {"mean_accepted_per_step", field("number", "accepted / verification steps.")},
            {"accepted_histogram",
             {{"type", "array"},
              {"items", {{"type", "integer"}}},
              {"description", "Index n: verification steps that kept exactly n drafts, n = 0..spec_tokens; sums "
                              "to the verification steps."}}},
            {"forwards_saved", field("integer", "baseline.target_forwards - speculative.target_forwards.")},
            {"identical", field("boolean", "Both runs produced the same token ids (always, for greedy).")},
            {"text", field("string", "The generated text of the speculative run (the prompt not included).")},
            {"tokens", {{"type", "array"},
                        {"items", token},
                        {"description", "One entry per generated token of the speculative run, in order."}}}}}};
}

}  // namespace

void add_speculative_openapi(json& paths, json& schemas) {
  json parameters = json::array(
      {{{"name", "prompt"},
        {"in", "query"},
        {"required", false},
        {"description", "Prompt text (BOS is added)."},
        {"schema", {{"type", "string"}, {"default", "Once upon a time"}}}},
       int_param("max_tokens", fmt::format("Most tokens to generate, 1..{}. Default 64.", kMaxCompareTokens),
                 kMaxCompareTokens),
       {{"name", "method"},
        {"in", "query"},
        {"required", false},
        {"description", "Where drafts come from: ngram (prompt lookup) or draft (the server's --draft-model; 422 "
                        "without one). Default: the server's --spec method, else ngram."},
        {"schema", {{"type", "string"}, {"enum", {"ngram", "draft"}}}}},
       int_param("spec_tokens",
                 fmt::format("Drafts verified per step, 1..{}. Default: the server's --spec-tokens (4).",
                             kMaxSpecTokens),
                 kMaxSpecTokens)});
  paths["/compare/speculative"] = {
      {"get",
       {{"summary", "Speculative decoding vs plain decoding on the loaded model"},
        {"description",
         "Runs the prompt greedily (temperature 0) twice through the serving engine, one run after the other: "
         "first without speculation, then with it. Timestamps are taken as tokens arrive. Other requests the "
         "engine serves at the same time share its steps and so the timings."},
        {"operationId", "compareSpeculative"},
        {"tags", {"speculative"}},
        {"parameters", parameters},
        {"responses",
         {{"200", {{"description", "Both runs side by side."},
                   {"content", {{"application/json", {{"schema", ref("SpeculativeComparison")}}}}}}},
          {"400", error_response("Malformed: an unparsable integer, an unknown or repeated parameter.")},
          {"422", error_response("Out of range, an unknown method, draft without a draft model, or a prompt too "
                                 "long for the context. error.param names it.")},
          {"503", error_response("No model loaded (helix serve without -m).")}}}}}};
  schemas["SpeculativeComparison"] = comparison_schema();
}

}  // namespace helix::server
