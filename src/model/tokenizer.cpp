#include "model/tokenizer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "model/byte_level.h"
#include "model/utf8.h"

namespace helix {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // '▁' (U+2581), SentencePiece's space

constexpr std::string_view kEndOfGenerationNames[] = {
    "</s>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>",
};

// The byte of a SentencePiece byte-fallback piece "<0xNN>", or -1.
int parse_byte_piece(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (const char c : text.substr(3, 2)) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

// What a byte-level token prints: each char back to its byte (chars outside the map are kept as is).
std::string byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Unit unit = utf8_decode_at(text, pos);
    const int byte = unit.valid ? byte_level_byte(unit.cp) : -1;
    if (byte >= 0) {
      out += static_cast<char>(byte);
    } else {
      out.append(text.substr(pos, unit.length));
    }
    pos += unit.length;
  }
  return out;
}

}  // namespace

Result<Tokenizer> Tokenizer::create(TokenizerSpec spec) {
  const std::string& src = spec.source;
  const size_t n = spec.tokens.size();
  if (n == 0) return errorf("{}: the vocabulary is empty", src);
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return errorf("{}: {} tokens is more than ids can hold", src, n);
  }
  if (!spec.scores.empty() && spec.scores.size() != n) {
    return errorf("{}: {} scores for {} tokens", src, spec.scores.size(), n);
  }
  if (!spec.types.empty() && spec.types.size() != n) {
    return errorf("{}: {} token types for {} tokens", src, spec.types.size(), n);
  }
  const auto n_tokens = static_cast<int32_t>(n);
  auto bad_id = [&](int32_t id) { return id < -1 || id >= n_tokens; };
  if (bad_id(spec.bos_id)) return errorf("{}: BOS id {} is outside the vocabulary ({} tokens)", src, spec.bos_id, n);
  if (bad_id(spec.eos_id)) return errorf("{}: EOS id {} is outside the vocabulary ({} tokens)", src, spec.eos_id, n);
  if (bad_id(spec.unk_id)) return errorf("{}: unknown-token id {} is outside the vocabulary ({} tokens)", src, spec.unk_id, n);
  for (const int32_t id : spec.eog_ids) {
    if (bad_id(id)) return errorf("{}: end-of-generation id {} is outside the vocabulary ({} tokens)", src, id, n);
  }

  Tokenizer t;
  t.kind_ = spec.kind;
  t.tokens_ = std::move(spec.tokens);
  t.scores_ = spec.scores.empty() ? std::vector<float>(n, 0.0f) : std::move(spec.scores);
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(t.scores_[i])) return errorf("{}: the score of token {} is NaN", src, i);
  }
  if (spec.types.empty()) {
    // No types stored (llama2.c files): infer them as SentencePiece would have them.
    spec.types.assign(n, TokenType::Normal);
    for (size_t i = 0; i < n; ++i) {
      if (spec.kind == TokenizerKind::kSentencePiece && parse_byte_piece(t.tokens_[i]) >= 0) {
        spec.types[i] = TokenType::Byte;
      }
    }
    if (spec.unk_id >= 0) spec.types[spec.unk_id] = TokenType::Unknown;
    if (spec.bos_id >= 0) spec.types[spec.bos_id] = TokenType::Control;
    if (spec.eos_id >= 0) spec.types[spec.eos_id] = TokenType::Control;
  }
  t.types_ = std::move(spec.types);
  t.pre_tokenizer_ = std::move(spec.pre_tokenizer);
  t.ignore_merges_ = spec.ignore_merges;
  t.byte_level_prefix_space_ = spec.byte_level_prefix_space;
  t.add_space_prefix_ = spec.add_space_prefix;
  t.add_bos_ = spec.add_bos;
  t.bos_id_ = spec.bos_id;
  t.eos_id_ = spec.eos_id;
  t.unk_id_ = spec.unk_id;
  if (spec.eos_id >= 0) t.eog_ids_.push_back(spec.eos_id);
  for (const int32_t id : spec.eog_ids) {
    if (id >= 0) t.eog_ids_.push_back(id);
  }
  // Chat models end a turn with a token other than EOS; files seldom list it, so go by name (as llama.cpp).
  for (int32_t id = 0; id < n_tokens; ++id) {
    if (t.types_[id] != TokenType::Control) continue;
    const std::string& text = t.tokens_[id];
    for (const std::string_view name : kEndOfGenerationNames) {
      if (text == name) t.eog_ids_.push_back(id);
    }
  }
  std::sort(t.eog_ids_.begin(), t.eog_ids_.end());
  t.eog_ids_.erase(std::unique(t.eog_ids_.begin(), t.eog_ids_.end()), t.eog_ids_.end());

  // Text -> id; on duplicate texts the later id wins, as in llama.cpp.
  t.token_ids_.reserve(n);
  for (int32_t id = 0; id < n_tokens; ++id) t.token_ids_.insert_or_assign(t.tokens_[id], id);

  t.pieces_.resize(n);
  t.byte_tokens_.fill(-1);
  for (int32_t id = 0; id < n_tokens; ++id) {
    const std::string& text = t.tokens_[id];
    switch (t.types_[id]) {
      case TokenType::Normal:
        t.pieces_[id] = t.kind_ == TokenizerKind::kSentencePiece ? replace_all(text, kSpaceMarker, " ")
                                                                 : byte_level_decode(text);
        break;
      case TokenType::Byte: {
        const int byte = parse_byte_piece(text);
        if (byte < 0) return errorf("{}: token {} '{}' has the byte type but is not of the form <0xNN>", src, id, text);
        t.pieces_[id] = std::string(1, static_cast<char>(byte));
        if (t.byte_tokens_[byte] < 0) t.byte_tokens_[byte] = id;
        break;
      }
      case TokenType::UserDefined:
        t.pieces_[id] = text;
        break;
      case TokenType::Unknown:
      case TokenType::Control:
      case TokenType::Unused:
        break;
      default:
        return errorf("{}: token {} has an unknown type {}", src, id, static_cast<int>(t.types_[id]));
    }
  }

  if (t.kind_ == TokenizerKind::kByteLevelBpe) {
    for (int b = 0; b < 256; ++b) t.byte_tokens_[b] = t.find_token(byte_level_char(static_cast<uint8_t>(b)));
    t.merges_.reserve(spec.merges.size());
    for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
      const auto& [left, right] = spec.merges[rank];
      const int32_t left_id = t.find_token(left);
      const int32_t right_id = t.find_token(right);
      const int32_t merged_id = t.find_token(left + right);
      const char* missing = left_id < 0 ? "its left part" : right_id < 0 ? "its right part" : merged_id < 0 ? "the merged token" : nullptr;
      if (missing != nullptr) {
        return errorf("{}: merges[{}] '{} {}': {} is not in the vocabulary", src, rank, left, right, missing);
      }
      const uint64_t key = (static_cast<uint64_t>(left_id) << 32) | static_cast<uint32_t>(right_id);
      // A repeated pair keeps its first (highest-priority) rank.
      t.merges_.try_emplace(key, MergeRule{static_cast<int32_t>(rank), merged_id});
    }
  }

  for (int32_t id = 0; id < n_tokens; ++id) {
    const TokenType type = t.types_[id];
    if (t.tokens_[id].empty()) continue;
    if (type == TokenType::Control || type == TokenType::Unknown) {
      t.specials_.push_back({id, true});
    } else if (type == TokenType::UserDefined) {
      t.specials_.push_back({id, false});
    }
  }
  std::stable_sort(t.specials_.begin(), t.specials_.end(), [&t](const SpecialToken& a, const SpecialToken& b) {
    return t.tokens_[a.id].size() > t.tokens_[b.id].size();
  });
  for (const SpecialToken& special : t.specials_) {
    t.special_first_byte_[static_cast<uint8_t>(t.tokens_[special.id][0])] = true;
  }
  return t;
}

int32_t Tokenizer::find_token(std::string_view text) const {
  const auto it = token_ids_.find(text);
  return it == token_ids_.end() ? -1 : it->second;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && bos_id_ >= 0) out.push_back(bos_id_);
  // SentencePiece prefixes a space to the text and to text that follows a special token (llama.cpp).
  bool after_special = true;
  size_t start = 0;  // first byte not yet encoded
  size_t pos = 0;
  while (pos < text.size()) {
    const SpecialToken* match = nullptr;
    if (!special_first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    for (const SpecialToken& special : specials_) {
      if (special.control && !parse_special) continue;
      const std::string& special_text = tokens_[special.id];
      if (text.compare(pos, special_text.size(), special_text) == 0) {
        match = &special;  // the longest, as specials_ is sorted by length
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    if (pos > start) encode_fragment(text.substr(start, pos - start), after_special, out);
    out.push_back(match->id);
    after_special = true;
    pos += tokens_[match->id].size();
    start = pos;
  }
  if (start < text.size()) encode_fragment(text.substr(start), after_special, out);
  return out;
}

void Tokenizer::encode_fragment(std::string_view text, bool after_special, std::vector<int32_t>& out) const {
  if (kind_ == TokenizerKind::kSentencePiece) {
    encode_spm(text, add_space_prefix_ && after_special, out);
  } else {
    encode_bpe(text, out);
  }
}

std::string Tokenizer::decode_piece(int32_t prev_id, int32_t id, bool render_special) const {
  if (id < 0 || id >= vocab_size()) return {};
  const TokenType type = types_[id];
  if (type == TokenType::Control || type == TokenType::Unknown || type == TokenType::Unused) {
    return render_special ? tokens_[id] : std::string();
  }
  const std::string& piece = pieces_[id];
  // The space that encode prepended (llama2.c also drops it after BOS when printing).
  if (kind_ == TokenizerKind::kSentencePiece && add_space_prefix_ && type == TokenType::Normal &&
      (prev_id < 0 || prev_id == bos_id_) && !piece.empty() && piece[0] == ' ') {
    return piece.substr(1);
  }
  return piece;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  int32_t prev_id = -1;
  for (const int32_t id : ids) {
    out += decode_piece(prev_id, id, render_special);
    prev_id = id;
  }
  return out;
}

bool Tokenizer::is_eog(int32_t id) const { return std::binary_search(eog_ids_.begin(), eog_ids_.end(), id); }

const std::string& Tokenizer::token_text(int32_t id) const {
  static const std::string kEmpty;
  return id >= 0 && id < vocab_size() ? tokens_[id] : kEmpty;
}

TokenType Tokenizer::token_type(int32_t id) const {
  return id >= 0 && id < vocab_size() ? types_[id] : TokenType::Unused;
}

float Tokenizer::token_score(int32_t id) const { return id >= 0 && id < vocab_size() ? scores_[id] : 0.0f; }

std::optional<int32_t> Tokenizer::token_id(std::string_view text) const {
  const int32_t id = find_token(text);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

std::string TokenStreamDecoder::push(int32_t id) {
  pending_ += tokenizer_->decode_piece(prev_id_, id, render_special_);
  prev_id_ = id;
  const size_t ready = pending_.size() - utf8_incomplete_tail(pending_);
  std::string out = pending_.substr(0, ready);
  pending_.erase(0, ready);
  return out;
}

std::string TokenStreamDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace helix
