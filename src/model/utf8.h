// UTF-8 helpers shared by the tokenizers: lenient decoding (an invalid byte becomes a unit of its own
// instead of an error, so any byte string can be tokenized and round-trips) and the incomplete-tail test
// the streaming decoder uses to avoid splitting a character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace helix {

// One decoded unit of a byte string: a valid UTF-8 sequence, or one invalid byte (valid == false).
struct Utf8Unit {
  uint32_t cp = 0;      // the code point; the byte value for an invalid byte
  uint8_t length = 0;   // bytes (1..4)
  bool valid = false;
};

// Decodes the unit starting at `pos` (pos < text.size()). Overlong forms, surrogates, values above
// U+10FFFF, stray continuation bytes and truncated sequences are invalid: one byte each.
Utf8Unit utf8_decode_at(std::string_view text, size_t pos);

// Appends the UTF-8 encoding of a code point (cp <= 0x10FFFF).
void utf8_append(std::string& out, uint32_t cp);

// Number of bytes at the end of `bytes` that begin a valid UTF-8 sequence still missing bytes
// (0 when the string ends on a complete character or on bytes that can never become valid).
size_t utf8_incomplete_tail(std::string_view bytes);

}  // namespace helix
