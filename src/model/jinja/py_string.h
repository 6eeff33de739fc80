// Python str operations over UTF-8 bytes, counted in code points as Python counts them: strip and
// split with str.isspace() whitespace, splitlines, case mapping, indexing and slicing. Invalid UTF-8
// bytes count as one character each, so any byte string works and round-trips.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace helix::jinja {

// Python's str.isspace() for one code point (\t\n\v\f\r, \x1c-\x1f, space, \x85, \xa0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
bool is_py_space(uint32_t cp);

// The code points of `s`, one view each.
std::vector<std::string_view> py_chars(std::string_view s);

// str.strip / lstrip / rstrip: whitespace, or any code point of `chars` when given.
std::string_view py_strip(std::string_view s, bool left, bool right,
                          std::optional<std::string_view> chars = std::nullopt);

// str.split(): runs of whitespace, no empty parts; str.split(sep) (sep non-empty). maxsplit < 0: all.
std::vector<std::string_view> py_split_whitespace(std::string_view s, int64_t maxsplit);
std::vector<std::string_view> py_split(std::string_view s, std::string_view sep, int64_t maxsplit);
// str.rsplit(sep) with a limit counts splits from the right.
std::vector<std::string_view> py_rsplit(std::string_view s, std::string_view sep, int64_t maxsplit);
// str.splitlines() without line ends (\n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, U+2028, U+2029).
std::vector<std::string_view> py_splitlines(std::string_view s);

// str.replace(old, new, count); an empty `old` inserts `new` around every code point, as Python does.
std::string py_replace(std::string_view s, std::string_view old, std::string_view replacement, int64_t count);

// Case mapping, one code point to one: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic letters;
// other characters are unchanged (Python would also map rarer scripts and ß -> SS).
uint32_t py_upper_cp(uint32_t cp);
uint32_t py_lower_cp(uint32_t cp);
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
std::string py_capitalize(std::string_view s);  // first code point upper, the rest lower
std::string py_title(std::string_view s);       // str.title(): upper after a non-letter, else lower

// str.isdigit / isalpha / isalnum / isspace / islower / isupper (false for the empty string).
bool py_isdigit(std::string_view s);
bool py_isalpha(std::string_view s);
bool py_isalnum(std::string_view s);
bool py_isspace(std::string_view s);
bool py_islower(std::string_view s);
bool py_isupper(std::string_view s);

// Python slice s[start:stop:step] over `count` items: the indices taken, in order. step != 0.
std::vector<int64_t> py_slice_indices(int64_t count, std::optional<int64_t> start, std::optional<int64_t> stop,
                                      int64_t step);

}  // namespace helix::jinja
