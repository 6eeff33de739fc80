#include "model/utf8.h"

namespace helix {

namespace {

bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

// Length of the sequence a lead byte starts (0 for a continuation byte or an invalid lead).
int lead_length(uint8_t byte) {
  if (byte < 0x80) return 1;
  if (byte >= 0xC2 && byte <= 0xDF) return 2;
  if (byte >= 0xE0 && byte <= 0xEF) return 3;
  if (byte >= 0xF0 && byte <= 0xF4) return 4;
  return 0;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
}

// The allowed range of the second byte, which is where overlongs, surrogates and > U+10FFFF show.
bool second_byte_ok(uint8_t lead, uint8_t second) {
  switch (lead) {
    case 0xE0: return second >= 0xA0 && second <= 0xBF;
    case 0xED: return second >= 0x80 && second <= 0x9F;
    case 0xF0: return second >= 0x90 && second <= 0xBF;
    case 0xF4: return second >= 0x80 && second <= 0x8F;
    default: return is_continuation(second);
  }
}

}  // namespace

Utf8Unit utf8_decode_at(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const uint8_t lead = s[pos];
  Utf8Unit unit{lead, 1, false};
  const int length = lead_length(lead);
  if (length == 0) return unit;
  if (length == 1) {
    unit.valid = true;
    return unit;
  }
  if (pos + length > text.size()) return unit;
  if (!second_byte_ok(lead, s[pos + 1])) return unit;
  for (int i = 2; i < length; ++i) {
    if (!is_continuation(s[pos + i])) return unit;
  }
  uint32_t cp = lead & (0x7F >> length);
  for (int i = 1; i < length; ++i) cp = (cp << 6) | (s[pos + i] & 0x3F);
  unit.cp = cp;
  unit.length = static_cast<uint8_t>(length);
  unit.valid = true;
  return unit;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t utf8_incomplete_tail(std::string_view bytes) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  // A pending sequence has at most 3 of its bytes present: look for its lead among the last 3.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const size_t start = n - back;
    const uint8_t byte = s[start];
    if (is_continuation(byte)) continue;
    const int length = lead_length(byte);
    if (length <= 1 || static_cast<size_t>(length) <= back) return 0;
    if (back >= 2 && !second_byte_ok(byte, s[start + 1])) return 0;
    for (size_t i = start + 2; i < n; ++i) {
      if (!is_continuation(s[i])) return 0;
    }
    return back;
  }
  return 0;
}

}  // namespace helix
