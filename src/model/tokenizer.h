// Tokenizer: text <-> token ids for the two families Helix serves.
//  - SentencePiece BPE (Llama 1/2, TinyLlama, stories): spaces become '▁', a space is prepended, adjacent
//    pieces merge by score, chars without a piece fall back to <0xNN> byte tokens. Matches llama.cpp's
//    SPM tokenizer.
//  - Byte-level BPE (GPT-2, Llama 3, SmolLM2): a pre-tokenizer splits words, bytes map to printable chars,
//    merges apply by rank. Matches llama.cpp's BPE tokenizer and Hugging Face tokenizers.
// Loaders (tokenizer_loaders.h) fill a TokenizerSpec from a file; Tokenizer::create checks it.
// Encoding is a priority queue of candidate merges over a linked list of symbols: O(n log n).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "model/pre_tokenizer.h"
#include "model/token_type.h"

namespace helix {

enum class TokenizerKind : uint8_t {
  kSentencePiece,
  kByteLevelBpe,
};

// What a loader reads from a file. Tokenizer::create validates it and builds the lookup tables.
struct TokenizerSpec {
  std::string source;               // the file, for error messages
  TokenizerKind kind = TokenizerKind::kSentencePiece;
  std::vector<std::string> tokens;  // as stored: SentencePiece pieces use '▁'; byte-level use mapped chars
  std::vector<float> scores;        // SentencePiece merge priority (higher first); empty = all 0
  std::vector<TokenType> types;     // empty = all normal
  // Byte-level BPE merges, highest priority first; a merged token must be in the vocab.
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<PreTokenizerStep> pre_tokenizer;  // byte-level BPE only
  bool ignore_merges = false;       // byte-level: a word that is itself a token is kept whole (Llama 3)
  bool byte_level_prefix_space = false;  // byte-level: prepend ' ' unless the text starts with one
  bool add_space_prefix = true;     // SentencePiece: prepend ' ' before encoding, drop it when decoding
  bool add_bos = false;             // whether callers add BOS by default
  int32_t bos_id = -1;              // -1: none
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  std::vector<int32_t> eog_ids;     // end-of-generation ids besides eos (<|eot_id|>, <|im_end|>, ...)
};

class Tokenizer {
 public:
  static Result<Tokenizer> create(TokenizerSpec spec);

  // Text to ids. Any bytes are accepted: invalid UTF-8 bytes are encoded one by one (byte fallback or
  // byte-level chars), so they round-trip. With parse_special, the text of a control token (<s>,
  // <|im_start|>) becomes its id; user-defined tokens are always matched.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special = false) const;

  // Ids to bytes. Control and unknown tokens print nothing unless render_special. SentencePiece drops
  // the leading space of the first piece and of a piece right after BOS (the space encode prepends), so
  // decode(encode(x)) == x. Ids outside the vocab print nothing.
  std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

  // The bytes `id` adds after `prev_id` (-1 at the start): decode() is the concatenation of these.
  // A piece may end inside a UTF-8 char (byte tokens): TokenStreamDecoder holds such bytes back.
  std::string decode_piece(int32_t prev_id, int32_t id, bool render_special = false) const;

  TokenizerKind kind() const { return kind_; }
  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t unk_id() const { return unk_id_; }
  bool add_bos_default() const { return add_bos_; }
  // eos and the other end-of-generation tokens, ascending.
  const std::vector<int32_t>& eog_ids() const { return eog_ids_; }
  bool is_eog(int32_t id) const;

  // The stored token text (empty for an id outside the vocab).
  const std::string& token_text(int32_t id) const;
  TokenType token_type(int32_t id) const;
  float token_score(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view text) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct MergeRule {
    int32_t rank;
    int32_t merged_id;
  };
  struct SpecialToken {
    int32_t id;    // its text is tokens_[id] (no view: a copied Tokenizer must not point into another)
    bool control;  // matched only with parse_special
  };

  Tokenizer() = default;
  int32_t find_token(std::string_view text) const;
  void encode_fragment(std::string_view text, bool after_special, std::vector<int32_t>& out) const;
  // spm_tokenizer.cpp
  void encode_spm(std::string_view text, bool prefix_space, std::vector<int32_t>& out) const;
  // bpe_tokenizer.cpp
  void encode_bpe(std::string_view text, std::vector<int32_t>& out) const;
  void encode_bpe_word(std::string_view word, std::vector<int32_t>& out) const;

  TokenizerKind kind_ = TokenizerKind::kSentencePiece;
  std::vector<std::string> tokens_;
  std::vector<float> scores_;
  std::vector<TokenType> types_;
  std::vector<PreTokenizerStep> pre_tokenizer_;
  bool ignore_merges_ = false;
  bool byte_level_prefix_space_ = false;
  bool add_space_prefix_ = true;
  bool add_bos_ = false;
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  int32_t unk_id_ = -1;
  std::vector<int32_t> eog_ids_;

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> token_ids_;
  std::vector<std::string> pieces_;        // what each token prints (normal, byte, user-defined)
  std::array<int32_t, 256> byte_tokens_{};  // per byte: <0xNN> (SentencePiece) or its char (byte-level)
  std::unordered_map<uint64_t, MergeRule> merges_;  // key: left id << 32 | right id
  std::vector<SpecialToken> specials_;              // longest text first
  std::array<bool, 256> special_first_byte_{};      // bytes a special token text starts with
};

// Turns ids into text as they arrive, never splitting a UTF-8 char: bytes of an unfinished char are
// held until the rest comes. The concatenation of push() results and flush() equals decode(all ids).
class TokenStreamDecoder {
 public:
  // prev_id: the token before the first one pushed (the last prompt token; -1 if none).
  explicit TokenStreamDecoder(const Tokenizer& tokenizer, int32_t prev_id = -1, bool render_special = false)
      : tokenizer_(&tokenizer), prev_id_(prev_id), render_special_(render_special) {}

  std::string push(int32_t id);
  // Whatever is still held (an unfinished char at the end of generation), as raw bytes.
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  int32_t prev_id_;
  bool render_special_;
  std::string pending_;
};

}  // namespace helix
