#include "server/chat_prompt.h"

#include <memory>

namespace helix::server {

ChatRenderer chat_renderer(ChatTemplate chat_template) {
  auto shared = std::make_shared<const ChatTemplate>(std::move(chat_template));
  return [shared](const std::vector<ChatTurn>& messages, bool add_generation_prompt) -> Result<std::string> {
    std::vector<ChatMessage> converted;
    converted.reserve(messages.size());
    for (const ChatTurn& m : messages) converted.push_back(ChatMessage{m.role, m.content});
    return shared->render(converted, add_generation_prompt);
  };
}

Result<ChatRenderer> chat_renderer_for_model(const ModelFile& file) {
  auto chat_template = chat_template_for_model(file);
  if (!chat_template) return Unexpected{chat_template.error()};
  return chat_renderer(std::move(*chat_template));
}

}  // namespace helix::server
