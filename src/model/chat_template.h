// Chat templates: a conversation -> the prompt text a model was trained on, rendered by the model's own
// Jinja template (GGUF `tokenizer.chat_template`) exactly as Hugging Face transformers'
// apply_chat_template does (trim_blocks and lstrip_blocks on, raise_exception, tojson).
//
// BOS: Llama templates write the BOS text ("<s>", "<|begin_of_text|>") themselves, so the rendered
// prompt must be tokenized with special tokens parsed and without adding another BOS (transformers
// tokenizes chat prompts with add_special_tokens=False). encode_chat_prompt() does that: it adds the
// tokenizer's BOS only when the prompt does not already start with the template's bos_token text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/jinja/template.h"
#include "model/model_file.h"
#include "model/tokenizer.h"

namespace helix {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", ...
  std::string content;
};

class ChatTemplate {
 public:
  // A template that does not parse gives "chat template: line L, column C: ...".
  static Result<ChatTemplate> parse(std::string source, std::string bos_token, std::string eos_token);

  // Renders with the variables messages, add_generation_prompt, bos_token and eos_token (safe from
  // several threads at once; each render is bounded by jinja::RenderLimits' defaults). A template
  // that refuses the conversation through raise_exception(msg) gives Error{msg, param "messages"};
  // other failures give "chat template: line L, column C: ...".
  Result<std::string> render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  // "zephyr", "llama2", "llama3", "chatml" for those models' templates (or a template using their
  // markers: <|user|>, [INST], <|start_header_id|>, <|im_start|>), "plain" for the fallback, else "custom".
  // A label for display and logs; rendering never depends on it.
  std::string_view family() const { return family_; }

  // Whether a rendered prompt starts with the BOS text (checked on a one-message conversation when the
  // template was parsed): then the tokenizer must not add BOS again. encode_chat_prompt() checks the
  // actual prompt instead.
  bool renders_bos() const { return renders_bos_; }

  const std::string& source() const { return source_; }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }

 private:
  ChatTemplate(jinja::Template tmpl, std::string source, std::string bos, std::string eos)
      : template_(std::move(tmpl)),
        source_(std::move(source)),
        bos_token_(std::move(bos)),
        eos_token_(std::move(eos)) {}

  jinja::Template template_;
  std::string source_;
  std::string bos_token_;
  std::string eos_token_;
  std::string family_;
  bool renders_bos_ = false;
};

// The plain fallback for models without a template (llama2.c checkpoints, GGUFs without
// tokenizer.chat_template): one "<role>: <content>" line per message, then "assistant:" when a
// generation prompt is asked for. For example user "Hi" -> "user: Hi\nassistant:".
inline constexpr std::string_view kPlainChatTemplate =
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

// A well-known family's template, exactly as its model ships it, with that model's BOS/EOS texts:
// "zephyr" (TinyLlama-1.1B-Chat), "llama2" (Llama-2-chat), "llama3" (Llama-3-Instruct; "llama3-older"
// is its first revision), "chatml" (SmolLM2-Instruct), or "plain" (kPlainChatTemplate).
Result<ChatTemplate> chat_template_by_name(std::string_view name);

// The template a model file carries (GGUF tokenizer.chat_template, with BOS/EOS texts from its
// vocabulary); the plain fallback when it has none (llama2.c checkpoints, GGUFs without one).
// A template that is there but does not parse is an error, not a silent fallback.
Result<ChatTemplate> chat_template_for_model(const ModelFile& file);

// Token ids of a rendered prompt: special-token texts (<s>, <|im_start|>, ...) become their ids, and
// BOS is added (when the tokenizer adds one by default) only if the prompt does not start with the
// template's bos_token text, so a Llama prompt never gets two BOS tokens.
std::vector<int32_t> encode_chat_prompt(const Tokenizer& tokenizer, const ChatTemplate& chat_template,
                                        std::string_view prompt);

}  // namespace helix
