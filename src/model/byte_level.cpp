#include "model/byte_level.h"

#include <array>

#include "model/utf8.h"

namespace helix {

namespace {

struct ByteLevelTable {
  std::array<uint32_t, 256> cp_of_byte{};
  std::array<std::string, 256> text_of_byte;

  ByteLevelTable() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      cp_of_byte[b] = printable ? static_cast<uint32_t>(b) : next++;
      utf8_append(text_of_byte[b], cp_of_byte[b]);
    }
  }
};

const ByteLevelTable& table() {
  static const ByteLevelTable instance;
  return instance;
}

}  // namespace

const std::string& byte_level_char(uint8_t byte) { return table().text_of_byte[byte]; }

int byte_level_byte(uint32_t cp) {
  if (cp < 256) {
    return table().cp_of_byte[cp] == cp ? static_cast<int>(cp) : -1;
  }
  // U+0100 + k is the k-th non-printable byte: 68 of them, so U+0100..U+0143.
  if (cp >= 0x144) return -1;
  const auto& cps = table().cp_of_byte;
  for (int b = 0; b < 256; ++b) {
    if (cps[b] == cp) return b;
  }
  return -1;
}

}  // namespace helix
