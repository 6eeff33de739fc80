#include "model/jinja/lexer.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "model/jinja/py_string.h"
#include "model/utf8.h"

namespace helix::jinja {

std::string describe_location(int line, int column) { return fmt::format("line {}, column {}", line, column); }

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

class Lexer {
 public:
  Lexer(std::string source, const LexOptions& options) : src_(std::move(source)), options_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  Result<std::vector<Token>> run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      const size_t tag = find_tag_start(pos);
      if (tag == std::string::npos) {
        emit_data(pos, src_.substr(pos));
        break;
      }
      std::string_view text(src_.data() + pos, tag - pos);
      const char kind = src_[tag + 1];
      size_t p = tag + 2;
      const char sign = (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ? src_[p] : '\0';
      size_t raw_content = 0;
      const bool raw = kind == '%' && match_raw_begin(tag, &raw_content);
      emit_data(pos, apply_strip(text, sign, kind != '{', line_starting));
      if (raw) {
        HELIX_TRY(lex_raw(tag, raw_content, pos, line_starting));
        continue;
      }
      if (sign) ++p;
      if (kind == '#') {
        HELIX_TRY(lex_comment(tag, p, pos));
      } else {
        HELIX_TRY(lex_tag(tag, p, kind == '%', pos));
      }
      line_starting = src_[pos - 1] == '\n';
    }
    Token eof;
    eof.type = TokenType::kEof;
    locate(src_.size(), eof);
    tokens_.push_back(std::move(eof));
    return std::move(tokens_);
  }

 private:
  size_t find_tag_start(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void locate(size_t pos, Token& token) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    const size_t line_index = static_cast<size_t>(it - line_starts_.begin()) - 1;
    token.line = static_cast<int>(line_index + 1);
    token.column = static_cast<int>(pos - line_starts_[line_index] + 1);
  }

  Unexpected fail(size_t pos, std::string_view message) const {
    Token where;
    locate(pos, where);
    return errorf("{}: {}", describe_location(where.line, where.column), message);
  }

  void emit(TokenType type, size_t pos, std::string value = {}) {
    Token token;
    token.type = type;
    token.value = std::move(value);
    locate(pos, token);
    tokens_.push_back(std::move(token));
  }

  void emit_data(size_t pos, std::string_view text) {
    if (!text.empty()) emit(TokenType::kData, pos, std::string(text));
  }

  // The text before a tag after whitespace control: `-` strips all trailing whitespace; otherwise
  // lstrip_blocks removes the blanks between the line start and a block or comment tag.
  std::string_view apply_strip(std::string_view text, char sign, bool lstrip_applies, bool line_starting) const {
    if (sign == '-') return py_strip(text, false, true);
    if (sign == '+' || !options_.lstrip_blocks || !lstrip_applies) return text;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting) return text;
    const std::string_view tail = text.substr(l_pos);
    if (tail.empty() || !py_isspace(tail)) return text;
    return text.substr(0, l_pos);
  }

  size_t skip_space(size_t pos) const {
    while (pos < src_.size()) {
      const Utf8Unit unit = utf8_decode_at(src_, pos);
      if (!unit.valid || !is_py_space(unit.cp)) break;
      pos += unit.length;
    }
    return pos;
  }

  bool starts_with(size_t pos, std::string_view s) const {
    return pos <= src_.size() && std::string_view(src_).substr(pos).starts_with(s);
  }

  // A block end at `pos`: `+%}` (no trim), `-%}` and all whitespace after, or `%}` and, with
  // trim_blocks, one newline. Returns the position after it, or npos.
  size_t match_block_end(size_t pos) const {
    if (starts_with(pos, "+%}")) return pos + 3;
    if (starts_with(pos, "-%}")) return skip_space(pos + 3);
    if (starts_with(pos, "%}")) {
      pos += 2;
      if (options_.trim_blocks && pos < src_.size() && src_[pos] == '\n') ++pos;
      return pos;
    }
    return std::string::npos;
  }

  // `{%[-+]? raw (-%}\s*|%})`: trim_blocks does not apply to it (as in Jinja).
  bool match_raw_begin(size_t tag, size_t* content) const {
    size_t p = tag + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = skip_space(p);
    if (!starts_with(p, "raw")) return false;
    p = skip_space(p + 3);
    if (starts_with(p, "-%}")) {
      *content = skip_space(p + 3);
      return true;
    }
    if (starts_with(p, "%}")) {
      *content = p + 2;
      return true;
    }
    return false;
  }

  Status lex_raw(size_t tag, size_t content, size_t& pos, bool& line_starting) {
    line_starting = src_[content - 1] == '\n';
    for (size_t e = src_.find("{%", content); e != std::string::npos; e = src_.find("{%", e + 1)) {
      size_t p = e + 2;
      const char sign = (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ? src_[p] : '\0';
      if (sign) ++p;
      p = skip_space(p);
      if (!starts_with(p, "endraw")) continue;
      const size_t end = match_block_end(skip_space(p + 6));
      if (end == std::string::npos) continue;
      const std::string_view text(src_.data() + content, e - content);
      emit_data(content, apply_strip(text, sign, true, line_starting));
      pos = end;
      line_starting = src_[end - 1] == '\n';
      return {};
    }
    return fail(tag, "missing end of raw directive ({% endraw %})");
  }

  Status lex_comment(size_t tag, size_t p, size_t& pos) {
    for (size_t e = src_.find("#}", p); e != std::string::npos; e = src_.find("#}", e + 1)) {
      if (e > p && src_[e - 1] == '+') {
        pos = e + 2;
      } else if (e > p && src_[e - 1] == '-') {
        pos = skip_space(e + 2);
      } else {
        pos = e + 2;
        if (options_.trim_blocks && pos < src_.size() && src_[pos] == '\n') ++pos;
      }
      return {};
    }
    return fail(tag, "missing end of comment tag ('#}')");
  }

  Status lex_tag(size_t tag, size_t p, bool block, size_t& pos) {
    emit(block ? TokenType::kBlockBegin : TokenType::kVariableBegin, tag);
    std::vector<char> brackets;  // closers expected, innermost last
    while (true) {
      if (brackets.empty()) {
        size_t end = std::string::npos;
        if (block) {
          end = match_block_end(p);
        } else if (starts_with(p, "-}}")) {
          end = skip_space(p + 3);
        } else if (starts_with(p, "}}")) {
          end = p + 2;
        }
        if (end != std::string::npos) {
          emit(block ? TokenType::kBlockEnd : TokenType::kVariableEnd, p);
          pos = end;
          return {};
        }
      }
      const size_t after_space = skip_space(p);
      if (after_space != p) {
        p = after_space;
        continue;
      }
      if (p >= src_.size()) {
        return fail(tag, block ? "unexpected end of template: '{%' tag is never closed with '%}'"
                               : "unexpected end of template: '{{' is never closed with '}}'");
      }
      size_t next = 0;
      if (lex_float(p, &next)) {
      } else if (lex_integer(p, &next)) {
        if (!ok_) return fail(p, error_);
      } else if (is_name_start(src_[p])) {
        next = p;
        while (next < src_.size() && is_name_char(src_[next])) ++next;
        emit(TokenType::kName, p, src_.substr(p, next - p));
      } else if (src_[p] == '\'' || src_[p] == '"') {
        HELIX_TRY(lex_string(p, &next));
      } else {
        HELIX_TRY(lex_operator(p, &next, brackets));
      }
      p = next;
    }
  }

  // (\d+_)*\d+ : digits, single underscores between them.
  size_t scan_digits(size_t pos) const {
    if (pos >= src_.size() || !is_digit(src_[pos])) return std::string::npos;
    while (true) {
      while (pos < src_.size() && is_digit(src_[pos])) ++pos;
      if (pos + 1 < src_.size() && src_[pos] == '_' && is_digit(src_[pos + 1])) {
        ++pos;
        continue;
      }
      return pos;
    }
  }

  std::string without_underscores(size_t from, size_t to) const {
    std::string s;
    for (size_t i = from; i < to; ++i) {
      if (src_[i] != '_') s.push_back(src_[i]);
    }
    return s;
  }

  // Jinja's float_re: digits then a fraction and/or an exponent, not right after a '.'.
  bool lex_float(size_t pos, size_t* next) {
    if (pos > 0 && src_[pos - 1] == '.') return false;
    const size_t p = scan_digits(pos);
    if (p == std::string::npos) return false;
    size_t end = std::string::npos;
    size_t q = p;
    if (q < src_.size() && src_[q] == '.') {
      const size_t f = scan_digits(q + 1);
      if (f != std::string::npos) q = f;
    }
    if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
      size_t r = q + 1;
      if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
      end = scan_digits(r);
    }
    if (end == std::string::npos && q != p) end = q;
    if (end == std::string::npos) return false;
    const std::string text = without_underscores(pos, end);
    Token token;
    token.type = TokenType::kFloat;
    token.value = text;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), token.float_value);
    if (ec == std::errc::result_out_of_range) {
      // Python reads an overflowing literal as inf and an underflowing one as 0.0.
      const size_t e = text.find_first_of("eE");
      token.float_value = (e != std::string::npos && text[e + 1] == '-') ? 0.0 : HUGE_VAL;
    }
    locate(pos, token);
    tokens_.push_back(std::move(token));
    *next = end;
    return true;
  }

  // Jinja's integer_re: 0b/0o/0x with single underscores, or decimal without leading zeros.
  bool lex_integer(size_t pos, size_t* next) {
    ok_ = true;
    if (!is_digit(src_[pos])) return false;
    int base = 10;
    size_t digits_from = pos;
    size_t end = pos;
    if (src_[pos] == '0' && pos + 1 < src_.size()) {
      const char b = static_cast<char>(src_[pos + 1] | 0x20);
      base = b == 'b' ? 2 : b == 'o' ? 8 : b == 'x' ? 16 : 10;
      if (base != 10) {
        size_t q = pos + 2;
        while (true) {
          size_t r = q;
          if (r < src_.size() && src_[r] == '_') ++r;
          if (r < src_.size() && digit_value(src_[r]) < base) {
            q = r + 1;
          } else {
            break;
          }
        }
        if (q == pos + 2) {
          base = 10;
        } else {
          digits_from = pos + 2;
          end = q;
        }
      }
    }
    if (base == 10) {
      end = pos + 1;
      const bool zero = src_[pos] == '0';
      while (true) {
        size_t r = end;
        if (r < src_.size() && src_[r] == '_') ++r;
        if (r < src_.size() && is_digit(src_[r]) && (!zero || src_[r] == '0')) {
          end = r + 1;
        } else {
          break;
        }
      }
    }
    const std::string digits = without_underscores(digits_from, end);
    Token token;
    token.type = TokenType::kInteger;
    token.value = src_.substr(pos, end - pos);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), token.int_value, base);
    if (ec != std::errc()) {
      ok_ = false;
      error_ = fmt::format("integer literal {} does not fit in 64 bits", token.value);
    }
    locate(pos, token);
    tokens_.push_back(std::move(token));
    *next = end;
    return true;
  }

  Status lex_string(size_t pos, size_t* next) {
    const char quote = src_[pos];
    size_t p = pos + 1;
    while (p < src_.size() && src_[p] != quote) p += src_[p] == '\\' ? 2 : 1;
    if (p >= src_.size()) return fail(pos, "unterminated string literal");
    std::string value;
    HELIX_TRY(unescape(pos, std::string_view(src_).substr(pos + 1, p - pos - 1), value));
    emit(TokenType::kString, pos, std::move(value));
    *next = p + 1;
    return {};
  }

  // Python's unicode-escape decoding, which Jinja applies to string literals.
  Status unescape(size_t pos, std::string_view raw, std::string& out) {
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 >= raw.size()) {
        out.push_back(raw[i]);
        continue;
      }
      const char c = raw[++i];
      switch (c) {
        case '\n': break;  // line continuation
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            if (i + 1 + k >= raw.size() || digit_value(raw[i + 1 + k]) >= 16) {
              return fail(pos, fmt::format("truncated \\{}{} escape in string literal", c, std::string(n, 'X')));
            }
            cp = cp * 16 + static_cast<uint32_t>(digit_value(raw[i + 1 + k]));
          }
          i += n;
          if (cp > 0x10FFFF) return fail(pos, "illegal Unicode character in string literal");
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate has no UTF-8 form
          utf8_append(out, cp);
          break;
        }
        case 'N': return fail(pos, "named Unicode escapes (\\N{...}) are not supported");
        default:
          if (c >= '0' && c <= '7') {
            uint32_t cp = static_cast<uint32_t>(c - '0');
            for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7'; ++k) {
              cp = cp * 8 + static_cast<uint32_t>(raw[++i] - '0');
            }
            utf8_append(out, cp);
          } else {
            out.push_back('\\');  // unknown escapes stay as written
            out.push_back(c);
          }
      }
    }
    return {};
  }

  Status lex_operator(size_t pos, size_t* next, std::vector<char>& brackets) {
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
    for (std::string_view op : kTwo) {
      if (starts_with(pos, op)) {
        emit(TokenType::kOperator, pos, std::string(op));
        *next = pos + 2;
        return {};
      }
    }
    const char c = src_[pos];
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
      const Utf8Unit unit = utf8_decode_at(src_, pos);
      if (!unit.valid) return fail(pos, fmt::format("unexpected byte \\x{:02x}", static_cast<unsigned char>(c)));
      return fail(pos, fmt::format("unexpected character '{}'", std::string_view(src_).substr(pos, unit.length)));
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets.empty()) return fail(pos, fmt::format("unexpected '{}'", c));
      if (brackets.back() != c) return fail(pos, fmt::format("unexpected '{}', expected '{}'", c, brackets.back()));
      brackets.pop_back();
    }
    emit(TokenType::kOperator, pos, std::string(1, c));
    *next = pos + 1;
    return {};
  }

  std::string src_;
  LexOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  bool ok_ = true;
  std::string error_;
};

std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view source, const LexOptions& options) {
  return Lexer(normalize_newlines(source, options.keep_trailing_newline), options).run();
}

}  // namespace helix::jinja
