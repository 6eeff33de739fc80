#include "server/chat_prompt.h"

namespace helix::server {

ChatRenderer plain_chat_renderer() {
  return [](const std::vector<ChatTurn>& messages, bool add_generation_prompt) -> Result<std::string> {
    std::string out;
    for (const ChatTurn& m : messages) out += m.role + ": " + m.content + "\n";
    if (add_generation_prompt) out += "assistant:";
    return out;
  };
}

Result<ChatRenderer> chat_renderer_for_model(const ModelFile& file, const Tokenizer& tokenizer) {
  // Chat templates (tokenizer.chat_template) are not interpreted yet: every model gets the plain fallback.
  (void)file;
  (void)tokenizer;
  return plain_chat_renderer();
}

}  // namespace helix::server
