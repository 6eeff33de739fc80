#include "server/chat_prompt.h"

#include <memory>

#include "model/chat_template.h"

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
  (void)tokenizer;  // BOS/EOS texts come from the file's vocabulary inside chat_template_for_model
  auto chat_template = chat_template_for_model(file);
  HELIX_TRY(chat_template);
  auto shared = std::make_shared<const ChatTemplate>(std::move(*chat_template));
  return ChatRenderer([shared](const std::vector<ChatTurn>& turns, bool add_generation_prompt) {
    std::vector<ChatMessage> messages;
    messages.reserve(turns.size());
    for (const ChatTurn& t : turns) messages.push_back(ChatMessage{t.role, t.content});
    return shared->render(messages, add_generation_prompt);
  });
}

}  // namespace helix::server
