// The chat templates of well-known model families, byte for byte as the models ship them
// (generated into known_chat_templates.cpp by scripts/gen_known_chat_templates.py).
#pragma once

#include <span>
#include <string_view>

namespace helix {

struct KnownChatTemplate {
  std::string_view name;       // "zephyr", "llama2", "llama3", "chatml", "llama3-older"
  std::string_view model;      // the model whose template it is
  std::string_view source;     // the Jinja template
  std::string_view bos_token;  // that model's BOS and EOS token texts
  std::string_view eos_token;
  std::string_view license;    // the model's license, which covers the template text
};

std::span<const KnownChatTemplate> known_chat_templates();

}  // namespace helix
