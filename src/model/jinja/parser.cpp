// Jinja statements: text, {{ }}, and the tags for/if/set/macro/break/continue/print/generation, then a
// check of filter and test names as Jinja does when it compiles.
#include "model/jinja/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "model/jinja/builtins.h"
#include "model/jinja/expression_parser.h"
#include "model/jinja/token_cursor.h"

namespace helix::jinja {

namespace {

bool is_reserved_name(const std::string& name) {
  return name == "true" || name == "false" || name == "none" || name == "True" || name == "False" || name == "None";
}

class StatementParser {
 public:
  explicit StatementParser(const std::vector<Token>& tokens) : c_(tokens), e_(c_) {}

  Result<Body> run() {
    Body body;
    if (!subparse({}, body)) return make_error(c_.error());
    return body;
  }

 private:
  bool expect_block_end() { return c_.expect(TokenType::kBlockEnd, "end of statement block ('%}')"); }

  // Parses until a block tag whose name is in `end_names` (left as the current token) or, at the top
  // level, the end of the template.
  bool subparse(std::vector<std::string> end_names, Body& out) {
    if (static_cast<int>(end_stack_.size()) >= kMaxBlockDepth) {
      return c_.fail_bool(c_.cur(), fmt::format("blocks nested deeper than {} levels", kMaxBlockDepth));
    }
    const bool top = end_names.empty();
    if (!top) end_stack_.push_back(end_names);
    while (c_.cur().type != TokenType::kEof) {
      const Token& t = c_.cur();
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->column = t.column;
        s->text = t.value;
        out.push_back(std::move(s));
        c_.advance();
      } else if (t.type == TokenType::kVariableBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = t.line;
        s->column = t.column;
        c_.advance();
        s->expr = e_.parse_tuple(true, {}, false);
        if (!s->expr || !c_.expect(TokenType::kVariableEnd, "end of print statement ('}}')")) return false;
        out.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        c_.advance();
        if (!top && c_.is_any_name(end_names)) {
          end_stack_.pop_back();
          return true;
        }
        StmtPtr s = parse_statement();
        if (!s || !expect_block_end()) return false;
        out.push_back(std::move(s));
      } else {
        return c_.fail_bool(t, fmt::format("unexpected {}", describe(t)));
      }
    }
    if (!top) return fail_eof();
    return true;
  }

  bool fail_eof() {
    std::string expected;
    for (const auto& name : end_stack_.back()) expected += (expected.empty() ? "'" : " or '") + name + "'";
    return c_.fail_bool(c_.cur(), fmt::format("unexpected end of template: expected {} to close the '{}' block",
                                              expected, tag_stack_.empty() ? "" : tag_stack_.back()));
  }

  // Parses the statements of a block: the rest of the opening tag, then the body up to an end tag.
  bool parse_statements(std::vector<std::string> end_names, bool drop_needle, Body& out) {
    if (c_.is_op(":")) c_.advance();
    if (!expect_block_end()) return false;
    if (!subparse(std::move(end_names), out)) return false;
    if (drop_needle) c_.advance();
    return true;
  }

  StmtPtr new_stmt(StmtKind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->column = at.column;
    return s;
  }

  StmtPtr parse_statement() {
    const Token& t = c_.cur();
    if (t.type != TokenType::kName) return c_.fail(t, fmt::format("expected a tag name, got {}", describe(t)));
    const std::string tag = t.value;
    static constexpr std::string_view kTags[] = {"for",   "if",       "set",   "macro",
                                                 "break", "continue", "print", "generation"};
    if (std::find(std::begin(kTags), std::end(kTags), tag) == std::end(kTags)) return fail_unknown_tag(t);
    tag_stack_.push_back(tag);
    StmtPtr s;
    if (tag == "for") {
      s = parse_for();
    } else if (tag == "if") {
      s = parse_if();
    } else if (tag == "set") {
      s = parse_set();
    } else if (tag == "macro") {
      s = parse_macro();
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) return c_.fail(t, fmt::format("'{}' outside a for loop", tag));
      s = new_stmt(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, t);
      c_.advance();
    } else if (tag == "print") {
      s = new_stmt(StmtKind::kPrint, t);
      c_.advance();
      s->expr = e_.parse_tuple(true, {}, false);
      if (!s->expr) return nullptr;
    } else if (tag == "generation") {
      s = new_stmt(StmtKind::kBody, t);
      c_.advance();
      s->bodies.emplace_back();
      if (!parse_statements({"endgeneration"}, true, s->bodies[0])) return nullptr;
    }
    tag_stack_.pop_back();
    return s;
  }

  std::nullptr_t fail_unknown_tag(const Token& t) {
    const bool closing = t.value.starts_with("end") || t.value == "else" || t.value == "elif";
    if (!closing) return c_.fail(t, fmt::format("unknown tag '{}'", t.value));
    if (end_stack_.empty()) return c_.fail(t, fmt::format("unexpected '{}': no open block to close", t.value));
    std::string expected;
    for (const auto& name : end_stack_.back()) expected += (expected.empty() ? "'" : " or '") + name + "'";
    return c_.fail(t, fmt::format("unexpected '{}': the open '{}' block needs {} first", t.value,
                                  tag_stack_.empty() ? "" : tag_stack_.back(), expected));
  }

  // Names separated by commas (optionally in parentheses): the targets of for / set.
  bool parse_targets(std::vector<std::string>& targets, std::string_view end_name) {
    const bool paren = c_.is_op("(");
    if (paren) c_.advance();
    while (true) {
      if (c_.cur().type != TokenType::kName || is_reserved_name(c_.cur().value)) {
        return c_.fail_bool(c_.cur(), fmt::format("expected a variable name, got {}", describe(c_.cur())));
      }
      targets.push_back(c_.cur().value);
      c_.advance();
      if (!c_.is_op(",")) break;
      c_.advance();
      if ((paren && c_.is_op(")")) || (!paren && (c_.is_name(end_name) || c_.is_op("=")))) break;
    }
    if (paren && !c_.expect_op(")")) return false;
    return true;
  }

  StmtPtr parse_for() {
    auto s = new_stmt(StmtKind::kFor, c_.cur());
    c_.advance();
    if (!parse_targets(s->targets, "in")) return nullptr;
    if (!c_.is_name("in")) return c_.fail(c_.cur(), fmt::format("expected 'in', got {}", describe(c_.cur())));
    c_.advance();
    s->expr = e_.parse_tuple(false, {"recursive"}, false);
    if (!s->expr) return nullptr;
    if (c_.is_name("if")) {
      c_.advance();
      s->condition = e_.parse_expression(true);
      if (!s->condition) return nullptr;
    }
    if (c_.is_name("recursive")) return c_.fail(c_.cur(), "recursive for loops are not supported");
    s->bodies.emplace_back();
    ++loop_depth_;
    const bool ok = parse_statements({"endfor", "else"}, false, s->bodies[0]);
    --loop_depth_;
    if (!ok) return nullptr;
    if (c_.is_name("else")) {
      c_.advance();
      s->bodies.emplace_back();
      if (!parse_statements({"endfor"}, true, s->bodies[1])) return nullptr;
    } else {
      c_.advance();  // endfor
    }
    return s;
  }

  StmtPtr parse_if() {
    auto s = new_stmt(StmtKind::kIf, c_.cur());
    c_.advance();
    while (true) {
      ExprPtr test = e_.parse_tuple(false, {}, false);
      if (!test) return nullptr;
      s->conditions.push_back(std::move(test));
      s->bodies.emplace_back();
      if (!parse_statements({"elif", "else", "endif"}, false, s->bodies.back())) return nullptr;
      if (c_.is_name("elif")) {
        c_.advance();
        continue;
      }
      if (c_.is_name("else")) {
        c_.advance();
        s->bodies.emplace_back();
        if (!parse_statements({"endif"}, true, s->bodies.back())) return nullptr;
      } else {
        c_.advance();  // endif
      }
      return s;
    }
  }

  StmtPtr parse_set() {
    const Token at = c_.cur();
    c_.advance();
    if (c_.cur().type == TokenType::kName && c_.peek().type == TokenType::kOperator && c_.peek().value == ".") {
      auto s = new_stmt(StmtKind::kSetAttr, at);
      s->targets.push_back(c_.cur().value);
      c_.advance();
      c_.advance();
      if (c_.cur().type != TokenType::kName) return c_.fail(c_.cur(), "expected an attribute name after '.'");
      s->attr = c_.cur().value;
      c_.advance();
      if (!c_.expect_op("=")) return nullptr;
      s->expr = e_.parse_tuple(true, {}, false);
      if (!s->expr) return nullptr;
      return s;
    }
    std::vector<std::string> targets;
    if (!parse_targets(targets, "")) return nullptr;
    if (c_.is_op("=")) {
      c_.advance();
      auto s = new_stmt(StmtKind::kSet, at);
      s->targets = std::move(targets);
      s->expr = e_.parse_tuple(true, {}, false);
      if (!s->expr) return nullptr;
      return s;
    }
    if (c_.is_op("|")) return c_.fail(c_.cur(), "filters on {% set %} blocks are not supported");
    if (targets.size() != 1) return c_.fail(c_.cur(), "a {% set %} block assigns one name");
    auto s = new_stmt(StmtKind::kSetBlock, at);
    s->targets = std::move(targets);
    s->bodies.emplace_back();
    if (!parse_statements({"endset"}, true, s->bodies[0])) return nullptr;
    return s;
  }

  StmtPtr parse_macro() {
    auto s = new_stmt(StmtKind::kMacro, c_.cur());
    c_.advance();
    if (c_.cur().type != TokenType::kName || is_reserved_name(c_.cur().value)) {
      return c_.fail(c_.cur(), fmt::format("expected a macro name, got {}", describe(c_.cur())));
    }
    s->name = c_.cur().value;
    c_.advance();
    if (!c_.expect_op("(")) return nullptr;
    while (!c_.is_op(")")) {
      if (!s->targets.empty() && !c_.expect_op(",")) return nullptr;
      if (c_.cur().type != TokenType::kName || is_reserved_name(c_.cur().value)) {
        return c_.fail(c_.cur(), fmt::format("expected a parameter name, got {}", describe(c_.cur())));
      }
      s->targets.push_back(c_.cur().value);
      c_.advance();
      if (c_.is_op("=")) {
        c_.advance();
        ExprPtr d = e_.parse_expression(true);
        if (!d) return nullptr;
        s->defaults.push_back(std::move(d));
      } else if (!s->defaults.empty() && s->defaults.back()) {
        return c_.fail(c_.cur(), "non-default parameter follows default parameter");
      } else {
        s->defaults.push_back(nullptr);
      }
    }
    c_.advance();
    s->bodies.emplace_back();
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    const bool ok = parse_statements({"endmacro"}, true, s->bodies[0]);
    loop_depth_ = saved_loop_depth;
    if (!ok) return nullptr;
    return s;
  }

  TokenCursor c_;
  ExpressionParser e_;
  int loop_depth_ = 0;
  std::vector<std::vector<std::string>> end_stack_;
  std::vector<std::string> tag_stack_;
};

// Jinja refuses unknown filters and tests when it compiles a template, except inside {% if %} blocks
// and conditional expressions, where the error waits until the filter is actually called.
Status check_expr(const Expr& e, bool soft) {
  if (e.kind == ExprKind::kCondExpr) soft = true;
  if (!soft && e.kind == ExprKind::kFilter && !has_filter(e.name)) {
    return errorf("{}: no filter named '{}'", describe_location(e.line, e.column), e.name);
  }
  if (!soft && e.kind == ExprKind::kTest && !has_test(e.name)) {
    return errorf("{}: no test named '{}'", describe_location(e.line, e.column), e.name);
  }
  for (const auto& a : e.args) {
    if (a) HELIX_TRY(check_expr(*a, soft));
  }
  for (const auto& [key, value] : e.kwargs) HELIX_TRY(check_expr(*value, soft));
  return {};
}

Status check_body(const Body& body, bool soft) {
  for (const auto& s : body) {
    if (s->expr) HELIX_TRY(check_expr(*s->expr, soft));
    const bool inner_soft = s->kind == StmtKind::kIf ? true : s->kind == StmtKind::kBody ? soft : false;
    if (s->condition) HELIX_TRY(check_expr(*s->condition, false));
    for (const auto& c : s->conditions) HELIX_TRY(check_expr(*c, true));
    for (const auto& d : s->defaults) {
      if (d) HELIX_TRY(check_expr(*d, false));
    }
    for (const auto& b : s->bodies) HELIX_TRY(check_body(b, inner_soft));
  }
  return {};
}

}  // namespace

Result<Body> parse_tokens(const std::vector<Token>& tokens) {
  if (tokens.empty() || tokens.back().type != TokenType::kEof) return make_error("token list does not end with EOF");
  auto body = StatementParser(tokens).run();
  if (!body) return body;
  HELIX_TRY(check_body(*body, false));
  return body;
}

}  // namespace helix::jinja
