// Pre-tokenizers of byte-level BPE: split text into words before merges run. Each is the regex of a
// known tokenizer written by hand over code points (std::regex has no \p{L} / \p{N}), with Unicode
// classes from unicode_tables.h. A tokenizer applies a list of steps, each splitting every piece further
// (SmolLM2: isolate each numeric char, then the GPT-2 regex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace helix {

enum class PreTokenizerStep : uint8_t {
  // Hugging Face Digits(individual_digits=true): every numeric char (Nd, Nl, No) alone.
  kDigitsIndividual,
  // Digits(individual_digits=false): each run of numeric chars alone.
  kDigitsContiguous,
  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2Regex,
  // Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
  //          \s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3Regex,
};

// A piece of the input as byte offsets [begin, end).
struct TextPiece {
  size_t begin = 0;
  size_t end = 0;
};

// Splits `text` into consecutive non-empty pieces covering all of it (nothing for empty text).
// Invalid UTF-8 bytes count as one char each of no class (like punctuation), so any bytes split.
std::vector<TextPiece> pre_tokenize(std::string_view text, std::span<const PreTokenizerStep> steps);

}  // namespace helix
