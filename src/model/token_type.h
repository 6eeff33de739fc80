// Token types, numbered as GGUF's tokenizer.ggml.token_type. Shared by the tokenizers and the
// synthetic vocabulary.
#pragma once

#include <cstdint>

namespace helix {

enum class TokenType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,      // BOS, EOS, <|im_start|>: matched in text only with parse_special, not printed
  UserDefined = 4,  // added tokens that are not special: always matched whole, printed as they are
  Unused = 5,
  Byte = 6,         // SentencePiece byte fallback <0xNN>
};

}  // namespace helix
