// GPT-2's byte-to-char map (bytes_to_unicode): byte-level BPE vocabularies store every byte as a
// printable char, so "Ġ" (U+0120) stands for the byte 0x20. Printable Latin-1 bytes map to themselves,
// the others (0x00-0x20, 0x7F-0xA0, 0xAD) to U+0100 upwards in byte order.
#pragma once

#include <cstdint>
#include <string>

namespace helix {

// The UTF-8 text of the char that stands for `byte`.
const std::string& byte_level_char(uint8_t byte);

// The byte a char stands for, or -1 if the code point is not one of the 256.
int byte_level_byte(uint32_t cp);

}  // namespace helix
