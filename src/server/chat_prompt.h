// ChatRenderer: how /v1/chat/completions turns messages into prompt text. `helix serve` builds it from the
// model's chat template; tests pass their own. The prompt is then tokenized with special tokens parsed, and
// BOS added only when the rendered text does not already start with it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/model_file.h"
#include "model/tokenizer.h"
#include "server/openai_request.h"

namespace helix::server {

using ChatRenderer =
    std::function<Result<std::string>(const std::vector<ChatTurn>& messages, bool add_generation_prompt)>;

// The plain fallback for a model without a chat template: one "role: content" line per message, then
// "assistant:" when a generation prompt is asked for (user "Hi" -> "user: Hi\nassistant:").
ChatRenderer plain_chat_renderer();

// The renderer for a model file: its own chat template, or the plain fallback when it has none.
Result<ChatRenderer> chat_renderer_for_model(const ModelFile& file, const Tokenizer& tokenizer);

}  // namespace helix::server
