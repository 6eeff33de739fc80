// ChatRenderer: how /v1/chat/completions turns messages into prompt text. `helix serve` builds it from the
// model's chat template (model/chat_template.h: the GGUF's tokenizer.chat_template, or the plain fallback
// "role: content" lines); tests pass their own. The prompt is then tokenized with special tokens parsed, and
// BOS added only when the rendered text does not already start with the BOS token's text.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/chat_template.h"
#include "model/model_file.h"
#include "server/openai_request.h"

namespace helix::server {

using ChatRenderer =
    std::function<Result<std::string>(const std::vector<ChatTurn>& messages, bool add_generation_prompt)>;

// Renders with `chat_template` (shared by every handler thread; rendering does not modify it). A template that
// refuses the conversation (raise_exception) gives an error with param "messages".
ChatRenderer chat_renderer(ChatTemplate chat_template);

// The renderer for a model file: its own template, or the plain fallback when it has none.
Result<ChatRenderer> chat_renderer_for_model(const ModelFile& file);

}  // namespace helix::server
