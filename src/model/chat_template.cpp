#include "model/chat_template.h"

#include <fmt/format.h>

#include "model/known_chat_templates.h"

namespace helix {

namespace {

std::string guess_family(std::string_view source) {
  if (source == kPlainChatTemplate) return "plain";
  for (const KnownChatTemplate& known : known_chat_templates()) {
    if (source == known.source) return std::string(known.name.substr(0, known.name.find('-')));
  }
  if (source.find("<|im_start|>") != std::string_view::npos) return "chatml";
  if (source.find("<|start_header_id|>") != std::string_view::npos) return "llama3";
  if (source.find("[INST]") != std::string_view::npos) return "llama2";
  if (source.find("<|user|>") != std::string_view::npos) return "zephyr";
  return "custom";
}

jinja::Value message_list(const std::vector<ChatMessage>& messages) {
  std::vector<jinja::Value> items;
  items.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    items.push_back(jinja::Value::make_dict({{jinja::Value::string("role"), jinja::Value::string(m.role)},
                                             {jinja::Value::string("content"), jinja::Value::string(m.content)}}));
  }
  return jinja::Value::make_list(std::move(items));
}

// The text of token `key` (an id) in a GGUF vocabulary; `fallback` when the key is absent.
Result<std::string> gguf_token_text(const GgufFile& gguf, std::string_view key, int64_t fallback,
                                    const std::vector<std::string_view>& tokens) {
  int64_t id = fallback;
  if (gguf.has(key)) {
    auto value = gguf.get_int(key);
    if (!value) return Unexpected{value.error()};
    id = *value;
  }
  if (id < 0 || id == 0xFFFFFFFFLL || tokens.empty()) return std::string();
  if (id >= static_cast<int64_t>(tokens.size())) {
    return errorf("{}: {} = {} is outside the vocabulary ({} tokens)", gguf.path(), key, id, tokens.size());
  }
  return std::string(tokens[static_cast<size_t>(id)]);
}

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string source, std::string bos_token, std::string eos_token) {
  auto tmpl = jinja::Template::parse(source);
  if (!tmpl) return with_context("chat template", tmpl.error());
  ChatTemplate chat(std::move(*tmpl), std::move(source), std::move(bos_token), std::move(eos_token));
  chat.family_ = guess_family(chat.source_);
  // Probe with a one-message conversation (and with a system message, for templates that need one).
  for (const auto& probe : {std::vector<ChatMessage>{{"user", "Hello"}},
                            std::vector<ChatMessage>{{"system", "System"}, {"user", "Hello"}}}) {
    auto text = chat.render(probe, true);
    if (!text) continue;
    chat.renders_bos_ = !chat.bos_token_.empty() && text->starts_with(chat.bos_token_);
    break;
  }
  return chat;
}

Result<std::string> ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  const jinja::Context context = {
      {"messages", message_list(messages)},
      {"add_generation_prompt", jinja::Value::boolean(add_generation_prompt)},
      {"bos_token", jinja::Value::string(bos_token_)},
      {"eos_token", jinja::Value::string(eos_token_)},
  };
  auto text = template_.render(context);
  if (text) return text;
  if (text.error().param == jinja::kRaisedErrorParam) return make_error(text.error().message, "messages");
  return with_context("chat template", text.error());
}

Result<ChatTemplate> chat_template_by_name(std::string_view name) {
  if (name == "plain") return ChatTemplate::parse(std::string(kPlainChatTemplate), "<s>", "</s>");
  std::string names = "plain";
  for (const KnownChatTemplate& known : known_chat_templates()) {
    if (known.name == name) {
      return ChatTemplate::parse(std::string(known.source), std::string(known.bos_token), std::string(known.eos_token));
    }
    names += ", " + std::string(known.name);
  }
  return make_error(fmt::format("unknown chat template \"{}\" (known: {})", name, names), "chat_template");
}

Result<ChatTemplate> chat_template_for_model(const ModelFile& file) {
  if (!file.gguf) return ChatTemplate::parse(std::string(kPlainChatTemplate), "<s>", "</s>");
  const GgufFile& gguf = *file.gguf;
  std::vector<std::string_view> tokens;
  if (gguf.has("tokenizer.ggml.tokens")) {
    auto list = gguf.get_string_array("tokenizer.ggml.tokens");
    if (!list) return Unexpected{list.error()};
    tokens = std::move(*list);
  }
  // llama.cpp's defaults for SentencePiece vocabularies when the ids are not stored.
  bool spm = false;
  if (gguf.has("tokenizer.ggml.model")) {
    auto model = gguf.get_string("tokenizer.ggml.model");
    if (!model) return Unexpected{model.error()};
    spm = *model == "llama";
  }
  auto bos = gguf_token_text(gguf, "tokenizer.ggml.bos_token_id", spm ? 1 : -1, tokens);
  if (!bos) return Unexpected{bos.error()};
  auto eos = gguf_token_text(gguf, "tokenizer.ggml.eos_token_id", spm ? 2 : -1, tokens);
  if (!eos) return Unexpected{eos.error()};
  if (!gguf.has("tokenizer.chat_template")) {
    return ChatTemplate::parse(std::string(kPlainChatTemplate), std::move(*bos), std::move(*eos));
  }
  auto source = gguf.get_string("tokenizer.chat_template");
  if (!source) return Unexpected{source.error()};
  auto chat = ChatTemplate::parse(std::string(*source), std::move(*bos), std::move(*eos));
  if (!chat) return with_context(file.path + ": tokenizer.chat_template", chat.error());
  return chat;
}

std::vector<int32_t> encode_chat_prompt(const Tokenizer& tokenizer, const ChatTemplate& chat_template,
                                        std::string_view prompt) {
  const std::string& bos = chat_template.bos_token();
  const bool has_bos = !bos.empty() && prompt.starts_with(bos);
  return tokenizer.encode(prompt, tokenizer.add_bos_default() && !has_bos, /*parse_special=*/true);
}

}  // namespace helix
