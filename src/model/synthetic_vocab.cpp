#include "model/synthetic_vocab.h"

#include <unordered_set>

#include <fmt/format.h>

namespace helix {

namespace {
constexpr const char* kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's visible space
}

Result<SyntheticVocab> make_synthetic_vocab(int64_t vocab_size) {
  constexpr int64_t kMinimum = 3 + 256 + 95;
  if (vocab_size < kMinimum || vocab_size > (int64_t{1} << 20))
    return errorf("vocab_size: a synthetic vocabulary needs {} to {} tokens, got {}", kMinimum, int64_t{1} << 20,
                  vocab_size);
  SyntheticVocab v;
  std::unordered_set<std::string> seen;
  auto add = [&](std::string piece, TokenType type) {
    if (static_cast<int64_t>(v.tokens.size()) >= vocab_size || !seen.insert(piece).second) return;
    // Longer pieces score higher than their parts would, so merges prefer them.
    v.scores.push_back(type == TokenType::Normal ? -static_cast<float>(v.tokens.size()) : 0.0f);
    v.token_types.push_back(static_cast<int32_t>(type));
    v.tokens.push_back(std::move(piece));
  };
  add("<unk>", TokenType::Unknown);
  add("<s>", TokenType::Control);
  add("</s>", TokenType::Control);
  for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), TokenType::Byte);
  add(kSpaceMark, TokenType::Normal);
  for (char c = 33; c < 127; ++c) add(std::string(1, c), TokenType::Normal);
  // Letter combinations, word-initial ("▁ab") and inner ("ab"), growing in length until the vocab is full.
  const std::string letters = "etaoinshrdlcumwfgypbvkjxqz";
  std::vector<std::string> frontier(letters.size());
  for (size_t i = 0; i < letters.size(); ++i) frontier[i] = std::string(1, letters[i]);
  while (static_cast<int64_t>(v.tokens.size()) < vocab_size) {
    std::vector<std::string> next;
    for (const auto& stem : frontier) {
      add(kSpaceMark + stem, TokenType::Normal);
      for (char c : letters) {
        next.push_back(stem + c);
        add(stem + c, TokenType::Normal);
        if (static_cast<int64_t>(v.tokens.size()) >= vocab_size) break;
      }
      if (static_cast<int64_t>(v.tokens.size()) >= vocab_size) break;
    }
    frontier.swap(next);
  }
  return v;
}

}  // namespace helix
