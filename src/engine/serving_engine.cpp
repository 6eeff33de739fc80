#include "engine/serving_engine.h"

#include "engine/serving_engine_impl.h"

namespace helix {

std::string_view spec_method_name(SpecMethod method) {
  switch (method) {
    case SpecMethod::Ngram: return "ngram";
    case SpecMethod::Draft: return "draft";
    case SpecMethod::None: break;
  }
  return "off";
}

Result<SpecMethod> parse_spec_method(std::string_view text, const std::string& param) {
  if (text == "off" || text == "none") return SpecMethod::None;
  if (text == "ngram") return SpecMethod::Ngram;
  if (text == "draft") return SpecMethod::Draft;
  return make_error(fmt::format("{}: must be off, ngram or draft, got '{}'", param, text.substr(0, 64)), param);
}

Status ServingOptions::validate() const {
  HELIX_TRY(engine.validate());
  if (max_step_tokens < 1)
    return make_error(fmt::format("--max-step-tokens: must be > 0, got {}", max_step_tokens), "max_step_tokens");
  if (max_running < 1 || max_running > 65536)
    return make_error(fmt::format("--max-running: must be between 1 and 65536, got {}", max_running), "max_running");
  if (!(watermark >= 0.0 && watermark < 0.5))
    return make_error(fmt::format("--watermark: must be in [0, 0.5), got {}", watermark), "watermark");
  if (capacity_mean_tokens < 1)
    return make_error(fmt::format("--capacity-mean-tokens: must be > 0, got {}", capacity_mean_tokens),
                      "capacity_mean_tokens");
  if (spec_tokens < 1 || spec_tokens > kMaxSpecTokens)
    return make_error(fmt::format("--spec-tokens: must be between 1 and {}, got {}", kMaxSpecTokens, spec_tokens),
                      "spec_tokens");
  return {};
}

Result<std::unique_ptr<ServingEngine>> ServingEngine::create(std::unique_ptr<Transformer> model, Tokenizer tokenizer,
                                                             const ServingOptions& options,
                                                             std::unique_ptr<Transformer> draft) {
  auto engine = ServingEngineImpl::create(std::move(model), std::move(tokenizer), options, std::move(draft));
  HELIX_TRY(engine);
  return std::unique_ptr<ServingEngine>(std::move(*engine));
}

}  // namespace helix
