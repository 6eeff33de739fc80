// Internal to the parser: a cursor over the token list with the error of the first failure.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/jinja/lexer.h"

namespace helix::jinja {

// How a token reads in a message: "'+'", "end of statement block ('%}')", "string literal".
inline std::string describe(const Token& t) {
  switch (t.type) {
    case TokenType::kData: return "template data";
    case TokenType::kVariableBegin: return "'{{'";
    case TokenType::kVariableEnd: return "end of print statement ('}}')";
    case TokenType::kBlockBegin: return "'{%'";
    case TokenType::kBlockEnd: return "end of statement block ('%}')";
    case TokenType::kName: return "'" + t.value + "'";
    case TokenType::kString: return "string literal";
    case TokenType::kInteger: return "integer " + t.value;
    case TokenType::kFloat: return "float " + t.value;
    case TokenType::kOperator: return "'" + t.value + "'";
    case TokenType::kEof: return "end of template";
  }
  return "token";
}

class TokenCursor {
 public:
  explicit TokenCursor(const std::vector<Token>& tokens) : t_(tokens) {}

  const Token& cur() const { return t_[i_]; }
  const Token& peek() const { return t_[std::min(i_ + 1, t_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool is_op(std::string_view op) const { return cur().type == TokenType::kOperator && cur().value == op; }
  bool is_name(std::string_view name) const { return cur().type == TokenType::kName && cur().value == name; }
  bool is_any_name(const std::vector<std::string>& names) const {
    return cur().type == TokenType::kName && std::find(names.begin(), names.end(), cur().value) != names.end();
  }

  // Records the first error ("line L, column C: message"); returns nullptr / false for the caller to pass up.
  std::nullptr_t fail(int line, int column, std::string_view message) {
    if (error_.empty()) error_ = fmt::format("{}: {}", describe_location(line, column), message);
    return nullptr;
  }
  std::nullptr_t fail(const Token& at, std::string_view message) { return fail(at.line, at.column, message); }
  bool fail_bool(const Token& at, std::string_view message) {
    fail(at, message);
    return false;
  }
  bool expect_op(std::string_view op) {
    if (!is_op(op)) return fail_bool(cur(), fmt::format("expected '{}', got {}", op, describe(cur())));
    advance();
    return true;
  }
  bool expect(TokenType type, std::string_view what) {
    if (cur().type != type) return fail_bool(cur(), fmt::format("expected {}, got {}", what, describe(cur())));
    advance();
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  const std::vector<Token>& t_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace helix::jinja
