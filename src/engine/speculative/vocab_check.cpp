#include "engine/speculative/vocab_check.h"

#include <optional>

#include <fmt/format.h>

#include "model/tokenizer_for_model.h"

namespace helix {
namespace {

// Token texts hold newlines, control bytes and '▁'; quote them so the error stays on one line.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

Status compare_vocabularies(const std::string& target_path, int64_t target_vocab, const Tokenizer* target_tokenizer,
                            const std::string& draft_path, int64_t draft_vocab, const Tokenizer* draft_tokenizer) {
  if (target_vocab != draft_vocab)
    return make_error(fmt::format("draft_model: vocabulary mismatch: the target {} has {} tokens, the draft {} has {}",
                                  target_path, target_vocab, draft_path, draft_vocab),
                      "draft_model");
  if (target_tokenizer == nullptr || draft_tokenizer == nullptr) return {};
  for (int32_t id = 0; id < target_vocab; ++id) {
    const std::string& a = target_tokenizer->token_text(id);
    const std::string& b = draft_tokenizer->token_text(id);
    if (a != b)
      return make_error(fmt::format("draft_model: vocabulary mismatch between the target {} and the draft {}: "
                                    "token {} is {} in the target, {} in the draft",
                                    target_path, draft_path, id, quoted(a), quoted(b)),
                        "draft_model");
  }
  return {};
}

Status check_draft_vocabulary(const ModelFile& target, const ModelFile& draft, const std::string& target_tokenizer_path,
                              const std::string& draft_tokenizer_path) {
  // A file without a findable tokenizer is compared by size only: ids are all the engine exchanges.
  std::optional<Tokenizer> target_tok, draft_tok;
  // A tokenizer named explicitly must load.
  if (auto t = tokenizer_for_model(target, target_tokenizer_path)) {
    target_tok.emplace(std::move(*t));
  } else if (!target_tokenizer_path.empty()) {
    return with_context(target_tokenizer_path, t.error());
  }
  if (auto t = tokenizer_for_model(draft, draft_tokenizer_path)) {
    draft_tok.emplace(std::move(*t));
  } else if (!draft_tokenizer_path.empty()) {
    return with_context(draft_tokenizer_path, t.error());
  }
  return compare_vocabularies(target.path, target.shape.vocab_size, target_tok ? &*target_tok : nullptr, draft.path,
                              draft.shape.vocab_size, draft_tok ? &*draft_tok : nullptr);
}

}  // namespace helix
