#include "model/jinja/py_string.h"

#include <algorithm>

#include "model/unicode_tables.h"
#include "model/utf8.h"

namespace helix::jinja {

namespace {

bool is_py_linebreak(uint32_t cp) {
  return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) || cp == 0x85 ||
         cp == 0x2028 || cp == 0x2029;
}

bool contains_cp(std::string_view chars, uint32_t cp) {
  for (size_t pos = 0; pos < chars.size();) {
    const Utf8Unit unit = utf8_decode_at(chars, pos);
    if (unit.cp == cp) return true;
    pos += unit.length;
  }
  return false;
}

template <typename F>
std::string map_cps(std::string_view s, F&& f) {
  std::string out;
  out.reserve(s.size());
  size_t index = 0;
  for (size_t pos = 0; pos < s.size(); ++index) {
    const Utf8Unit unit = utf8_decode_at(s, pos);
    if (unit.valid) {
      utf8_append(out, f(unit.cp, index));
    } else {
      out.push_back(s[pos]);
    }
    pos += unit.length;
  }
  return out;
}

// Latin Extended-A alternates upper/lower case in pairs, starting on even code points in some runs and
// odd ones in others.
bool latin_ext_a_is_upper(uint32_t cp) {
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) return cp % 2 == 1;
  return cp % 2 == 0;
}

bool latin_ext_a_paired(uint32_t cp) {
  return cp >= 0x100 && cp <= 0x17E && cp != 0x130 && cp != 0x131 && cp != 0x138 && cp != 0x149 && cp != 0x178;
}

template <typename Pred>
bool all_cps(std::string_view s, Pred&& pred) {
  if (s.empty()) return false;
  for (size_t pos = 0; pos < s.size();) {
    const Utf8Unit unit = utf8_decode_at(s, pos);
    if (!pred(unit.cp)) return false;
    pos += unit.length;
  }
  return true;
}

bool is_cased_letter(uint32_t cp) { return py_upper_cp(cp) != cp || py_lower_cp(cp) != cp; }

}  // namespace

bool is_py_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::vector<std::string_view> py_chars(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t pos = 0; pos < s.size();) {
    const size_t n = utf8_decode_at(s, pos).length;
    out.push_back(s.substr(pos, n));
    pos += n;
  }
  return out;
}

std::string_view py_strip(std::string_view s, bool left, bool right, std::optional<std::string_view> chars) {
  auto strippable = [&](const Utf8Unit& unit) {
    if (chars) return contains_cp(*chars, unit.cp) && unit.valid;
    return unit.valid && is_py_space(unit.cp);
  };
  size_t begin = 0;
  if (left) {
    while (begin < s.size()) {
      const Utf8Unit unit = utf8_decode_at(s, begin);
      if (!strippable(unit)) break;
      begin += unit.length;
    }
  }
  size_t end = s.size();
  if (right) {
    // The end of the last character that stays.
    end = begin;
    for (size_t pos = begin; pos < s.size();) {
      const Utf8Unit unit = utf8_decode_at(s, pos);
      pos += unit.length;
      if (!strippable(unit)) end = pos;
    }
  }
  return s.substr(begin, end - begin);
}

std::vector<std::string_view> py_split_whitespace(std::string_view s, int64_t maxsplit) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  auto skip_space = [&] {
    while (pos < s.size()) {
      const Utf8Unit unit = utf8_decode_at(s, pos);
      if (!unit.valid || !is_py_space(unit.cp)) break;
      pos += unit.length;
    }
  };
  skip_space();
  while (pos < s.size()) {
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      out.push_back(py_strip(s.substr(pos), false, true));
      return out;
    }
    const size_t start = pos;
    while (pos < s.size()) {
      const Utf8Unit unit = utf8_decode_at(s, pos);
      if (unit.valid && is_py_space(unit.cp)) break;
      pos += unit.length;
    }
    out.push_back(s.substr(start, pos - start));
    skip_space();
  }
  return out;
}

std::vector<std::string_view> py_split(std::string_view s, std::string_view sep, int64_t maxsplit) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    const size_t at = s.find(sep, start);
    if (at == std::string_view::npos) break;
    out.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
  out.push_back(s.substr(start));
  return out;
}

std::vector<std::string_view> py_rsplit(std::string_view s, std::string_view sep, int64_t maxsplit) {
  if (maxsplit < 0) return py_split(s, sep, maxsplit);
  std::vector<std::string_view> out;
  size_t end = s.size();
  while (static_cast<int64_t>(out.size()) < maxsplit && end >= sep.size()) {
    const size_t at = s.rfind(sep, end - sep.size());
    if (at == std::string_view::npos) break;
    out.push_back(s.substr(at + sep.size(), end - at - sep.size()));
    end = at;
  }
  out.push_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string_view> py_splitlines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const Utf8Unit unit = utf8_decode_at(s, pos);
    if (unit.valid && is_py_linebreak(unit.cp)) {
      out.push_back(s.substr(start, pos - start));
      pos += unit.length;
      if (unit.cp == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
      start = pos;
    } else {
      pos += unit.length;
    }
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

std::string py_replace(std::string_view s, std::string_view old, std::string_view replacement, int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old.empty()) {
    for (std::string_view c : py_chars(s)) {
      if (count < 0 || done < count) {
        out += replacement;
        ++done;
      }
      out += c;
    }
    if (count < 0 || done < count) out += replacement;
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(replacement);
    start = at + old.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

uint32_t py_upper_cp(uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp < 0x80) return cp;
  if (cp == 0xB5) return 0x39C;
  if (cp == 0xFF) return 0x178;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 32;
  if (latin_ext_a_paired(cp)) return latin_ext_a_is_upper(cp) ? cp : cp - 1;
  if (cp == 0x131) return 'I';
  if (cp == 0x17F) return 'S';
  if (cp == 0x3C2) return 0x3A3;
  if (cp >= 0x3B1 && cp <= 0x3C9) return cp - 32;
  if (cp >= 0x3AC && cp <= 0x3AF) return cp == 0x3AC ? 0x386 : cp - 37;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 32;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 80;
  return cp;
}

uint32_t py_lower_cp(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;
  if (cp == 0x178) return 0xFF;
  if (latin_ext_a_paired(cp)) return latin_ext_a_is_upper(cp) ? cp + 1 : cp;
  if (cp == 0x130) return 'i';
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

std::string py_upper(std::string_view s) {
  return map_cps(s, [](uint32_t cp, size_t) { return py_upper_cp(cp); });
}

std::string py_lower(std::string_view s) {
  return map_cps(s, [](uint32_t cp, size_t) { return py_lower_cp(cp); });
}

std::string py_capitalize(std::string_view s) {
  return map_cps(s, [](uint32_t cp, size_t i) { return i == 0 ? py_upper_cp(cp) : py_lower_cp(cp); });
}

std::string py_title(std::string_view s) {
  bool previous_cased = false;
  return map_cps(s, [&](uint32_t cp, size_t) {
    const bool cased = is_cased_letter(cp);
    const uint32_t mapped = cased ? (previous_cased ? py_lower_cp(cp) : py_upper_cp(cp)) : cp;
    previous_cased = cased;
    return mapped;
  });
}

bool py_isdigit(std::string_view s) {
  return all_cps(s,
                 [](uint32_t cp) { return cp < 0x80 ? (cp >= '0' && cp <= '9') : (codepoint_flags(cp) & kCpNumber); });
}

bool py_isalpha(std::string_view s) {
  return all_cps(s, [](uint32_t cp) { return (codepoint_flags(cp) & kCpLetter) != 0; });
}

bool py_isalnum(std::string_view s) {
  return all_cps(s, [](uint32_t cp) { return (codepoint_flags(cp) & (kCpLetter | kCpNumber)) != 0; });
}

bool py_isspace(std::string_view s) {
  return all_cps(s, [](uint32_t cp) { return is_py_space(cp); });
}

bool py_islower(std::string_view s) {
  bool any_cased = false;
  for (std::string_view c : py_chars(s)) {
    const uint32_t cp = utf8_decode_at(c, 0).cp;
    if (!is_cased_letter(cp)) continue;
    if (py_lower_cp(cp) != cp) return false;
    any_cased = true;
  }
  return any_cased;
}

bool py_isupper(std::string_view s) {
  bool any_cased = false;
  for (std::string_view c : py_chars(s)) {
    const uint32_t cp = utf8_decode_at(c, 0).cp;
    if (!is_cased_letter(cp)) continue;
    if (py_upper_cp(cp) != cp) return false;
    any_cased = true;
  }
  return any_cased;
}

std::vector<int64_t> py_slice_indices(int64_t count, std::optional<int64_t> start, std::optional<int64_t> stop,
                                      int64_t step) {
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t x = *v;
    if (x < 0) {
      x += count;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= count) {
      x = step < 0 ? count - 1 : count;
    }
    return x;
  };
  const int64_t from = adjust(start, step < 0 ? count - 1 : 0);
  const int64_t to = adjust(stop, step < 0 ? -1 : count);
  std::vector<int64_t> out;
  if (step > 0) {
    for (int64_t i = from; i < to; i += step) out.push_back(i);
  } else {
    for (int64_t i = from; i > to; i += step) out.push_back(i);
  }
  return out;
}

}  // namespace helix::jinja
