// A valid SentencePiece-style vocabulary of any size, for models generated with random weights
// (`helix gen-model`): <unk>, <s>, </s>, the 256 byte-fallback pieces <0x00>..<0xFF>, then printable pieces
// (single characters, then "▁"-prefixed and plain letter combinations) with descending scores. Any text encodes
// with it (byte fallback covers everything), so generated models run end to end without a real tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "model/token_type.h"

namespace helix {

struct SyntheticVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> token_types;
  int32_t unk_id = 0;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
};

// vocab_size must be at least 3 + 256 + 95 (specials, bytes, printable ASCII).
Result<SyntheticVocab> make_synthetic_vocab(int64_t vocab_size);

}  // namespace helix
