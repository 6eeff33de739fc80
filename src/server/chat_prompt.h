// ChatRenderer: how /v1/chat/completions turns messages into prompt text. `helix serve` builds it from the
// model's chat template; tests pass their own. The prompt is then tokenized with special tokens parsed, and
// BOS added only when the rendered text does not already start with it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "server/openai_request.h"

namespace helix::server {

using ChatRenderer =
    std::function<Result<std::string>(const std::vector<ChatTurn>& messages, bool add_generation_prompt)>;

}  // namespace helix::server
