#include "model/pre_tokenizer.h"

#include "model/unicode_tables.h"
#include "model/utf8.h"

namespace helix {

namespace {

struct Char {
  uint32_t cp;
  size_t offset;
  uint8_t flags;
};

// Char positions [begin, end) of one piece.
struct Span {
  size_t begin;
  size_t end;
};

constexpr uint32_t kNoChar = 0xFFFFFFFF;       // outside the piece
constexpr uint32_t kInvalidByte = 0xFFFFFFFE;  // an invalid UTF-8 byte inside it

// Reads chars of one piece; positions outside it read as "no char" with no class, as at the
// end of the regex subject.
class PieceView {
 public:
  PieceView(const std::vector<Char>& chars, Span span) : chars_(chars), span_(span) {}
  uint32_t cp(size_t pos) const { return inside(pos) ? chars_[pos].cp : kNoChar; }
  uint8_t flags(size_t pos) const { return inside(pos) ? chars_[pos].flags : 0; }
  bool inside(size_t pos) const { return pos >= span_.begin && pos < span_.end; }
  bool letter(size_t pos) const { return (flags(pos) & kCpLetter) != 0; }
  bool number(size_t pos) const { return (flags(pos) & kCpNumber) != 0; }
  bool space(size_t pos) const { return (flags(pos) & kCpWhitespace) != 0; }
  // [^\s\p{L}\p{N}]: any char that is not whitespace, letter or number.
  bool other(size_t pos) const { return inside(pos) && flags(pos) == 0; }

 private:
  const std::vector<Char>& chars_;
  Span span_;
};

uint32_t ascii_lower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

// Length of a contraction ('s 't 'm 'd 're 've 'll) at pos, 0 if none.
size_t contraction_length(const PieceView& v, size_t pos, bool ignore_case) {
  if (v.cp(pos) != '\'') return 0;
  auto at = [&](size_t p) { return ignore_case ? ascii_lower(v.cp(p)) : v.cp(p); };
  const uint32_t c1 = at(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  const uint32_t c2 = at(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// Counts the run of whitespace at pos.
size_t whitespace_run(const PieceView& v, size_t pos) {
  size_t n = 0;
  while (v.space(pos + n)) ++n;
  return n;
}

// Leftmost-first alternation of the GPT-2 regex, one match per step, as a regex engine would.
void split_gpt2(const std::vector<Char>& chars, Span span, std::vector<Span>& out) {
  const PieceView v(chars, span);
  size_t pos = span.begin;
  auto emit = [&](size_t end) {
    out.push_back({pos, end});
    pos = end;
  };
  while (pos < span.end) {
    if (const size_t n = contraction_length(v, pos, false); n > 0) {
      emit(pos + n);
      continue;
    }
    // " ?X+" for X in letter / number / other: the optional space belongs to the run after it.
    const size_t run = v.cp(pos) == ' ' ? pos + 1 : pos;
    if (v.letter(run)) {
      size_t end = run;
      while (v.letter(end)) ++end;
      emit(end);
      continue;
    }
    if (v.number(run)) {
      size_t end = run;
      while (v.number(end)) ++end;
      emit(end);
      continue;
    }
    if (v.other(run)) {
      size_t end = run;
      while (v.other(end)) ++end;
      emit(end);
      continue;
    }
    const size_t n_space = whitespace_run(v, pos);
    // \s+(?!\S): a run followed by a non-space gives back its last char to the next match.
    if (n_space > 1 && v.inside(pos + n_space)) {
      emit(pos + n_space - 1);
      continue;
    }
    if (n_space > 0) {
      emit(pos + n_space);
      continue;
    }
    emit(pos + 1);  // unreachable with the classes above; keeps the loop total
  }
}

void split_llama3(const std::vector<Char>& chars, Span span, std::vector<Span>& out) {
  const PieceView v(chars, span);
  size_t pos = span.begin;
  auto emit = [&](size_t end) {
    out.push_back({pos, end});
    pos = end;
  };
  auto is_newline = [&](size_t p) { return v.cp(p) == '\r' || v.cp(p) == '\n'; };
  while (pos < span.end) {
    if (const size_t n = contraction_length(v, pos, true); n > 0) {
      emit(pos + n);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!is_newline(pos) && !v.number(pos) && (v.letter(pos) || v.letter(pos + 1))) {
      size_t end = pos + 1;
      while (v.letter(end)) ++end;
      emit(end);
      continue;
    }
    // \p{N}{1,3}
    if (v.number(pos)) {
      size_t end = pos;
      while (v.number(end) && end - pos < 3) ++end;
      emit(end);
      continue;
    }
    // " ?[^\s\p{L}\p{N}]+[\r\n]*"
    const size_t run = v.cp(pos) == ' ' ? pos + 1 : pos;
    if (v.other(run)) {
      size_t end = run;
      while (v.other(end)) ++end;
      while (is_newline(end)) ++end;
      emit(end);
      continue;
    }
    const size_t n_space = whitespace_run(v, pos);
    // \s*[\r\n]+: the longest whitespace prefix that ends in a newline.
    size_t newline_end = 0;
    for (size_t i = 0; i < n_space; ++i) {
      if (is_newline(pos + i)) newline_end = pos + i + 1;
    }
    if (newline_end > 0) {
      emit(newline_end);
      continue;
    }
    if (n_space > 1 && v.inside(pos + n_space)) {
      emit(pos + n_space - 1);
      continue;
    }
    if (n_space > 0) {
      emit(pos + n_space);
      continue;
    }
    emit(pos + 1);
  }
}

void split_digits(const std::vector<Char>& chars, Span span, bool individual, std::vector<Span>& out) {
  size_t pos = span.begin;
  while (pos < span.end) {
    size_t end = pos + 1;
    const bool numeric = (chars[pos].flags & kCpNumber) != 0;
    if (!numeric || !individual) {
      while (end < span.end && ((chars[end].flags & kCpNumber) != 0) == numeric) ++end;
    }
    out.push_back({pos, end});
    pos = end;
  }
}

}  // namespace

std::vector<TextPiece> pre_tokenize(std::string_view text, std::span<const PreTokenizerStep> steps) {
  std::vector<Char> chars;
  chars.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Unit unit = utf8_decode_at(text, pos);
    chars.push_back({unit.valid ? unit.cp : kInvalidByte, pos, unit.valid ? codepoint_flags(unit.cp) : uint8_t{0}});
    pos += unit.length;
  }
  std::vector<Span> spans;
  if (!chars.empty()) spans.push_back({0, chars.size()});
  std::vector<Span> next;
  for (const PreTokenizerStep step : steps) {
    next.clear();
    for (const Span span : spans) {
      switch (step) {
        case PreTokenizerStep::kDigitsIndividual: split_digits(chars, span, true, next); break;
        case PreTokenizerStep::kDigitsContiguous: split_digits(chars, span, false, next); break;
        case PreTokenizerStep::kGpt2Regex: split_gpt2(chars, span, next); break;
        case PreTokenizerStep::kLlama3Regex: split_llama3(chars, span, next); break;
      }
    }
    spans.swap(next);
  }
  std::vector<TextPiece> pieces;
  pieces.reserve(spans.size());
  for (const Span span : spans) {
    const size_t end = span.end < chars.size() ? chars[span.end].offset : text.size();
    pieces.push_back({chars[span.begin].offset, end});
  }
  return pieces;
}

}  // namespace helix
