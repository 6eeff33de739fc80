#include "model/jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>

#include "model/jinja/builtins.h"

namespace helix::jinja {

namespace {

std::string describe(const Token& t) {
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

bool is_reserved_name(const std::string& name) {
  return name == "true" || name == "false" || name == "none" || name == "True" || name == "False" ||
         name == "None";
}

using Names = std::initializer_list<const char*>;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  Result<Body> run() {
    Body body;
    if (!subparse({}, body)) return make_error(error_);
    return body;
  }

 private:
  // ---- token helpers ------------------------------------------------------------------------
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

  std::nullptr_t fail(const Token& at, std::string_view message) {
    if (error_.empty()) error_ = fmt::format("{}: {}", describe_location(at.line, at.column), message);
    return nullptr;
  }
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
  bool expect_block_end() { return expect(TokenType::kBlockEnd, "end of statement block ('%}')"); }

  ExprPtr node(ExprKind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->column = at.column;
    return e;
  }

  // Bounds the depth of every finished node, so evaluating and destroying the tree stays shallow
  // even for long chains like 1+1+1+... that the parser builds without recursing.
  ExprPtr done(ExprPtr e) {
    int depth = 0;
    for (const auto& a : e->args) {
      if (a) depth = std::max(depth, depth_of(*a));
    }
    for (const auto& [k, v] : e->kwargs) depth = std::max(depth, depth_of(*v));
    e->depth = depth + 1;
    if (depth + 1 > kMaxExpressionDepth) {
      const Token at{TokenType::kEof, {}, 0, 0.0, e->line, e->column};
      return fail(at, fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
    }
    return e;
  }
  static int depth_of(const Expr& e) { return e.depth; }

  // Recursion guard for the parse functions themselves (deep parentheses, `not not not ...`).
  struct Guard {
    explicit Guard(Parser& p) : parser(p) { ++parser.recursion_; }
    ~Guard() { --parser.recursion_; }
    bool ok() const { return parser.recursion_ <= kMaxExpressionDepth; }
    Parser& parser;
  };

  // ---- statements ---------------------------------------------------------------------------
  // Parses until a block tag whose name is in `end_names` (left as the current token) or, at the top
  // level, the end of the template.
  bool subparse(std::vector<std::string> end_names, Body& out) {
    if (static_cast<int>(end_stack_.size()) >= kMaxBlockDepth) {
      return fail_bool(cur(), fmt::format("blocks nested deeper than {} levels", kMaxBlockDepth));
    }
    const bool top = end_names.empty();
    if (!top) end_stack_.push_back(end_names);
    while (cur().type != TokenType::kEof) {
      const Token& t = cur();
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kText;
        s->line = t.line;
        s->column = t.column;
        s->text = t.value;
        out.push_back(std::move(s));
        advance();
      } else if (t.type == TokenType::kVariableBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = t.line;
        s->column = t.column;
        advance();
        s->expr = parse_tuple(true, {}, false);
        if (!s->expr || !expect(TokenType::kVariableEnd, "end of print statement ('}}')")) return false;
        out.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        advance();
        if (!top && is_any_name(end_names)) {
          end_stack_.pop_back();
          return true;
        }
        StmtPtr s = parse_statement();
        if (!s || !expect_block_end()) return false;
        out.push_back(std::move(s));
      } else {
        return fail_bool(t, fmt::format("unexpected {}", describe(t)));
      }
    }
    if (!top) return fail_eof();
    return true;
  }

  bool fail_eof() {
    std::string expected;
    for (const auto& name : end_stack_.back()) expected += (expected.empty() ? "'" : " or '") + name + "'";
    return fail_bool(cur(), fmt::format("unexpected end of template: expected {} to close the '{}' block", expected,
                                        tag_stack_.empty() ? "" : tag_stack_.back()));
  }

  // Parses the statements of a block: the rest of the opening tag, then the body up to an end tag.
  bool parse_statements(std::vector<std::string> end_names, bool drop_needle, Body& out) {
    if (is_op(":")) advance();
    if (!expect_block_end()) return false;
    if (!subparse(std::move(end_names), out)) return false;
    if (drop_needle) advance();
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
    const Token& t = cur();
    if (t.type != TokenType::kName) return fail(t, fmt::format("expected a tag name, got {}", describe(t)));
    const std::string tag = t.value;
    static constexpr std::string_view kTags[] = {"for", "if", "set", "macro", "break", "continue", "print", "generation"};
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
      if (loop_depth_ == 0) return fail(t, fmt::format("'{}' outside a for loop", tag));
      s = new_stmt(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, t);
      advance();
    } else if (tag == "print") {
      s = new_stmt(StmtKind::kPrint, t);
      advance();
      s->expr = parse_tuple(true, {}, false);
      if (!s->expr) return nullptr;
    } else if (tag == "generation") {
      s = new_stmt(StmtKind::kBody, t);
      advance();
      s->bodies.emplace_back();
      if (!parse_statements({"endgeneration"}, true, s->bodies[0])) return nullptr;
    }
    tag_stack_.pop_back();
    return s;
  }

  std::nullptr_t fail_unknown_tag(const Token& t) {
    const bool closing = t.value.starts_with("end") || t.value == "else" || t.value == "elif";
    if (!closing) return fail(t, fmt::format("unknown tag '{}'", t.value));
    if (end_stack_.empty()) return fail(t, fmt::format("unexpected '{}': no open block to close", t.value));
    std::string expected;
    for (const auto& name : end_stack_.back()) expected += (expected.empty() ? "'" : " or '") + name + "'";
    return fail(t, fmt::format("unexpected '{}': the open '{}' block needs {} first", t.value,
                               tag_stack_.empty() ? "" : tag_stack_.back(), expected));
  }

  // Names separated by commas (optionally in parentheses): the targets of for / set.
  bool parse_targets(std::vector<std::string>& targets, std::string_view end_name) {
    const bool paren = is_op("(");
    if (paren) advance();
    while (true) {
      if (cur().type != TokenType::kName || is_reserved_name(cur().value)) {
        return fail_bool(cur(), fmt::format("expected a variable name, got {}", describe(cur())));
      }
      targets.push_back(cur().value);
      advance();
      if (!is_op(",")) break;
      advance();
      if ((paren && is_op(")")) || (!paren && (is_name(end_name) || is_op("=")))) break;
    }
    if (paren && !expect_op(")")) return false;
    return true;
  }

  StmtPtr parse_for() {
    auto s = new_stmt(StmtKind::kFor, cur());
    advance();
    if (!parse_targets(s->targets, "in")) return nullptr;
    if (!is_name("in")) return fail(cur(), fmt::format("expected 'in', got {}", describe(cur())));
    advance();
    s->expr = parse_tuple(false, {"recursive"}, false);
    if (!s->expr) return nullptr;
    if (is_name("if")) {
      advance();
      s->condition = parse_expression(true);
      if (!s->condition) return nullptr;
    }
    if (is_name("recursive")) return fail(cur(), "recursive for loops are not supported");
    s->bodies.emplace_back();
    ++loop_depth_;
    const bool ok = parse_statements({"endfor", "else"}, false, s->bodies[0]);
    --loop_depth_;
    if (!ok) return nullptr;
    if (is_name("else")) {
      advance();
      s->bodies.emplace_back();
      if (!parse_statements({"endfor"}, true, s->bodies[1])) return nullptr;
    } else {
      advance();  // endfor
    }
    return s;
  }

  StmtPtr parse_if() {
    auto s = new_stmt(StmtKind::kIf, cur());
    advance();
    while (true) {
      ExprPtr test = parse_tuple(false, {}, false);
      if (!test) return nullptr;
      s->conditions.push_back(std::move(test));
      s->bodies.emplace_back();
      if (!parse_statements({"elif", "else", "endif"}, false, s->bodies.back())) return nullptr;
      if (is_name("elif")) {
        advance();
        continue;
      }
      if (is_name("else")) {
        advance();
        s->bodies.emplace_back();
        if (!parse_statements({"endif"}, true, s->bodies.back())) return nullptr;
      } else {
        advance();  // endif
      }
      return s;
    }
  }

  StmtPtr parse_set() {
    const Token at = cur();
    advance();
    if (cur().type == TokenType::kName && peek().type == TokenType::kOperator && peek().value == ".") {
      auto s = new_stmt(StmtKind::kSetAttr, at);
      s->targets.push_back(cur().value);
      advance();
      advance();
      if (cur().type != TokenType::kName) return fail(cur(), "expected an attribute name after '.'");
      s->attr = cur().value;
      advance();
      if (!expect_op("=")) return nullptr;
      s->expr = parse_tuple(true, {}, false);
      if (!s->expr) return nullptr;
      return s;
    }
    std::vector<std::string> targets;
    if (!parse_targets(targets, "")) return nullptr;
    if (is_op("=")) {
      advance();
      auto s = new_stmt(StmtKind::kSet, at);
      s->targets = std::move(targets);
      s->expr = parse_tuple(true, {}, false);
      if (!s->expr) return nullptr;
      return s;
    }
    if (is_op("|")) return fail(cur(), "filters on {% set %} blocks are not supported");
    if (targets.size() != 1) return fail(cur(), "a {% set %} block assigns one name");
    auto s = new_stmt(StmtKind::kSetBlock, at);
    s->targets = std::move(targets);
    s->bodies.emplace_back();
    if (!parse_statements({"endset"}, true, s->bodies[0])) return nullptr;
    return s;
  }

  StmtPtr parse_macro() {
    auto s = new_stmt(StmtKind::kMacro, cur());
    advance();
    if (cur().type != TokenType::kName || is_reserved_name(cur().value)) {
      return fail(cur(), fmt::format("expected a macro name, got {}", describe(cur())));
    }
    s->name = cur().value;
    advance();
    if (!expect_op("(")) return nullptr;
    while (!is_op(")")) {
      if (!s->targets.empty() && !expect_op(",")) return nullptr;
      if (cur().type != TokenType::kName || is_reserved_name(cur().value)) {
        return fail(cur(), fmt::format("expected a parameter name, got {}", describe(cur())));
      }
      s->targets.push_back(cur().value);
      advance();
      if (is_op("=")) {
        advance();
        ExprPtr d = parse_expression(true);
        if (!d) return nullptr;
        s->defaults.push_back(std::move(d));
      } else if (!s->defaults.empty() && s->defaults.back()) {
        return fail(cur(), "non-default parameter follows default parameter");
      } else {
        s->defaults.push_back(nullptr);
      }
    }
    advance();
    s->bodies.emplace_back();
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    const bool ok = parse_statements({"endmacro"}, true, s->bodies[0]);
    loop_depth_ = saved_loop_depth;
    if (!ok) return nullptr;
    return s;
  }

  // ---- expressions --------------------------------------------------------------------------
  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    return cur().type == TokenType::kVariableEnd || cur().type == TokenType::kBlockEnd || is_op(")") ||
           is_any_name(extra_end);
  }

  ExprPtr parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens) {
    const Token at = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty() && !expect_op(",")) return nullptr;
      if (is_tuple_end(extra_end)) break;
      ExprPtr e = parse_expression(with_condexpr);
      if (!e) return nullptr;
      items.push_back(std::move(e));
      if (is_op(",")) {
        is_tuple = true;
      } else {
        break;
      }
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) return fail(cur(), fmt::format("expected an expression, got {}", describe(cur())));
    }
    auto t = node(ExprKind::kTuple, at);
    t->args = std::move(items);
    return done(std::move(t));
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    Guard guard(*this);
    if (!guard.ok()) return fail(cur(), fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
    const Token at = cur();
    ExprPtr expr = parse_or();
    if (!expr) return nullptr;
    while (is_name("if")) {
      advance();
      auto c = node(ExprKind::kCondExpr, at);
      ExprPtr test = parse_or();
      if (!test) return nullptr;
      ExprPtr otherwise;
      if (is_name("else")) {
        advance();
        otherwise = parse_condexpr();
        if (!otherwise) return nullptr;
      }
      c->args.push_back(std::move(test));
      c->args.push_back(std::move(expr));
      c->args.push_back(std::move(otherwise));
      expr = done(std::move(c));
      if (!expr) return nullptr;
    }
    return expr;
  }

  ExprPtr binary_chain(ExprKind kind, std::string op, ExprPtr left, ExprPtr right, const Token& at) {
    auto b = node(kind, at);
    b->op = std::move(op);
    b->args.push_back(std::move(left));
    b->args.push_back(std::move(right));
    return done(std::move(b));
  }

  ExprPtr parse_or() {
    const Token at = cur();
    ExprPtr left = parse_and();
    while (left && is_name("or")) {
      advance();
      ExprPtr right = parse_and();
      if (!right) return nullptr;
      left = binary_chain(ExprKind::kOr, "or", std::move(left), std::move(right), at);
    }
    return left;
  }

  ExprPtr parse_and() {
    const Token at = cur();
    ExprPtr left = parse_not();
    while (left && is_name("and")) {
      advance();
      ExprPtr right = parse_not();
      if (!right) return nullptr;
      left = binary_chain(ExprKind::kAnd, "and", std::move(left), std::move(right), at);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      Guard guard(*this);
      if (!guard.ok()) return fail(cur(), fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
      auto n = node(ExprKind::kNot, cur());
      advance();
      ExprPtr operand = parse_not();
      if (!operand) return nullptr;
      n->args.push_back(std::move(operand));
      return done(std::move(n));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token at = cur();
    ExprPtr expr = parse_math1();
    if (!expr) return nullptr;
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::kOperator &&
          (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
           cur().value == ">" || cur().value == ">=")) {
        op = cur().value;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == TokenType::kName && peek().value == "in") {
        op = "notin";
        advance();
        advance();
      } else {
        break;
      }
      ExprPtr right = parse_math1();
      if (!right) return nullptr;
      if (!cmp) {
        cmp = node(ExprKind::kCompare, at);
        cmp->args.push_back(std::move(expr));
      }
      cmp->compare_ops.push_back(op);
      cmp->args.push_back(std::move(right));
    }
    return cmp ? done(std::move(cmp)) : std::move(expr);
  }

  ExprPtr parse_math1() {
    const Token at = cur();
    ExprPtr left = parse_concat();
    while (left && (is_op("+") || is_op("-"))) {
      std::string op = cur().value;
      advance();
      ExprPtr right = parse_concat();
      if (!right) return nullptr;
      left = binary_chain(ExprKind::kBinary, op, std::move(left), std::move(right), at);
    }
    return left;
  }

  ExprPtr parse_concat() {
    const Token at = cur();
    ExprPtr first = parse_math2();
    if (!first || !is_op("~")) return first;
    auto c = node(ExprKind::kConcat, at);
    c->args.push_back(std::move(first));
    while (is_op("~")) {
      advance();
      ExprPtr next = parse_math2();
      if (!next) return nullptr;
      c->args.push_back(std::move(next));
    }
    return done(std::move(c));
  }

  ExprPtr parse_math2() {
    const Token at = cur();
    ExprPtr left = parse_pow();
    while (left && (is_op("*") || is_op("/") || is_op("//") || is_op("%"))) {
      std::string op = cur().value;
      advance();
      ExprPtr right = parse_pow();
      if (!right) return nullptr;
      left = binary_chain(ExprKind::kBinary, op, std::move(left), std::move(right), at);
    }
    return left;
  }

  ExprPtr parse_pow() {
    const Token at = cur();
    ExprPtr left = parse_unary(true);
    while (left && is_op("**")) {
      advance();
      ExprPtr right = parse_unary(true);
      if (!right) return nullptr;
      left = binary_chain(ExprKind::kBinary, "**", std::move(left), std::move(right), at);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    Guard guard(*this);
    if (!guard.ok()) return fail(cur(), fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
    ExprPtr n;
    if (is_op("-") || is_op("+")) {
      n = node(is_op("-") ? ExprKind::kNeg : ExprKind::kPos, cur());
      advance();
      ExprPtr operand = parse_unary(false);
      if (!operand) return nullptr;
      n->args.push_back(std::move(operand));
      n = done(std::move(n));
    } else {
      n = parse_primary();
    }
    if (!n) return nullptr;
    n = parse_postfix(std::move(n));
    if (n && with_filter) n = parse_filter_expr(std::move(n));
    return n;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    if (t.type == TokenType::kName) {
      auto n = node(ExprKind::kLiteral, t);
      if (t.value == "true" || t.value == "True") {
        n->literal = Value::boolean(true);
      } else if (t.value == "false" || t.value == "False") {
        n->literal = Value::boolean(false);
      } else if (t.value == "none" || t.value == "None") {
        n->literal = Value::none();
      } else {
        n->kind = ExprKind::kName;
        n->name = t.value;
      }
      advance();
      return n;
    }
    if (t.type == TokenType::kString) {
      auto n = node(ExprKind::kLiteral, t);
      std::string s;
      while (cur().type == TokenType::kString) {  // adjacent literals concatenate
        s += cur().value;
        advance();
      }
      n->literal = Value::string(std::move(s));
      return n;
    }
    if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
      auto n = node(ExprKind::kLiteral, t);
      n->literal = t.type == TokenType::kInteger ? Value::integer(t.int_value) : Value::number(t.float_value);
      advance();
      return n;
    }
    if (is_op("(")) {
      advance();
      ExprPtr inner = parse_tuple(true, {}, true);
      if (!inner || !expect_op(")")) return nullptr;
      return inner;
    }
    if (is_op("[")) return parse_list();
    if (is_op("{")) return parse_dict();
    return fail(t, fmt::format("unexpected {}", describe(t)));
  }

  ExprPtr parse_list() {
    auto n = node(ExprKind::kList, cur());
    advance();
    while (!is_op("]")) {
      if (!n->args.empty() && !expect_op(",")) return nullptr;
      if (is_op("]")) break;
      ExprPtr item = parse_expression(true);
      if (!item) return nullptr;
      n->args.push_back(std::move(item));
    }
    advance();
    return done(std::move(n));
  }

  ExprPtr parse_dict() {
    auto n = node(ExprKind::kDict, cur());
    advance();
    while (!is_op("}")) {
      if (!n->args.empty() && !expect_op(",")) return nullptr;
      if (is_op("}")) break;
      ExprPtr key = parse_expression(true);
      if (!key || !expect_op(":")) return nullptr;
      ExprPtr value = parse_expression(true);
      if (!value) return nullptr;
      n->args.push_back(std::move(key));
      n->args.push_back(std::move(value));
    }
    advance();
    return done(std::move(n));
  }

  ExprPtr parse_postfix(ExprPtr n) {
    while (n) {
      if (is_op(".") || is_op("[")) {
        n = parse_subscript(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        break;
      }
    }
    return n;
  }

  ExprPtr parse_filter_expr(ExprPtr n) {
    while (n) {
      if (is_op("|")) {
        n = parse_filter(std::move(n));
      } else if (is_name("is")) {
        n = parse_test(std::move(n));
      } else if (is_op("(")) {
        n = parse_call(std::move(n));
      } else {
        break;
      }
    }
    return n;
  }

  ExprPtr parse_subscript(ExprPtr target) {
    const Token at = cur();
    if (is_op(".")) {
      advance();
      const Token& attr = cur();
      if (attr.type == TokenType::kName) {
        auto n = node(ExprKind::kGetAttr, at);
        n->name = attr.value;
        n->args.push_back(std::move(target));
        advance();
        return done(std::move(n));
      }
      if (attr.type != TokenType::kInteger) return fail(attr, "expected an attribute name or number after '.'");
      auto n = node(ExprKind::kGetItem, at);
      auto key = node(ExprKind::kLiteral, attr);
      key->literal = Value::integer(attr.int_value);
      n->args.push_back(std::move(target));
      n->args.push_back(std::move(key));
      advance();
      return done(std::move(n));
    }
    advance();  // [
    std::vector<ExprPtr> keys;
    while (!is_op("]")) {
      if (!keys.empty() && !expect_op(",")) return nullptr;
      ExprPtr key = parse_subscribed();
      if (!key) return nullptr;
      keys.push_back(std::move(key));
    }
    advance();
    if (keys.empty()) return fail(at, "expected a subscript between '[' and ']'");
    auto n = node(ExprKind::kGetItem, at);
    n->args.push_back(std::move(target));
    if (keys.size() == 1) {
      n->args.push_back(std::move(keys[0]));
    } else {
      auto tuple = node(ExprKind::kTuple, at);
      tuple->args = std::move(keys);
      tuple = done(std::move(tuple));
      if (!tuple) return nullptr;
      n->args.push_back(std::move(tuple));
    }
    return done(std::move(n));
  }

  // An index or a slice start:stop:step inside [ ].
  ExprPtr parse_subscribed() {
    const Token at = cur();
    ExprPtr start;
    if (is_op(":")) {
      advance();
    } else {
      start = parse_expression(true);
      if (!start) return nullptr;
      if (!is_op(":")) return start;
      advance();
    }
    auto slice = node(ExprKind::kSlice, at);
    slice->args.push_back(std::move(start));
    ExprPtr stop;
    if (!is_op(":") && !is_op("]") && !is_op(",")) {
      stop = parse_expression(true);
      if (!stop) return nullptr;
    }
    slice->args.push_back(std::move(stop));
    ExprPtr step;
    if (is_op(":")) {
      advance();
      if (!is_op("]") && !is_op(",")) {
        step = parse_expression(true);
        if (!step) return nullptr;
      }
    }
    slice->args.push_back(std::move(step));
    return done(std::move(slice));
  }

  // ( args ) into n->args (after those already there) and n->kwargs.
  bool parse_call_args(Expr& n) {
    if (!expect_op("(")) return false;
    bool first = true;
    while (!is_op(")")) {
      if (!first) {
        if (!expect_op(",")) return false;
        if (is_op(")")) break;
      }
      first = false;
      if (is_op("*") || is_op("**")) return fail_bool(cur(), "*args and **kwargs in calls are not supported");
      if (cur().type == TokenType::kName && peek().type == TokenType::kOperator && peek().value == "=") {
        std::string key = cur().value;
        advance();
        advance();
        ExprPtr value = parse_expression(true);
        if (!value) return false;
        n.kwargs.emplace_back(std::move(key), std::move(value));
      } else {
        if (!n.kwargs.empty()) return fail_bool(cur(), "positional argument follows keyword argument");
        ExprPtr value = parse_expression(true);
        if (!value) return false;
        n.args.push_back(std::move(value));
      }
    }
    advance();
    return true;
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto n = node(ExprKind::kCall, cur());
    n->args.push_back(std::move(callee));
    if (!parse_call_args(*n)) return nullptr;
    return done(std::move(n));
  }

  ExprPtr parse_filter(ExprPtr value) {
    advance();  // |
    const Token at = cur();
    if (at.type != TokenType::kName) return fail(at, fmt::format("expected a filter name, got {}", describe(at)));
    auto n = node(ExprKind::kFilter, at);
    n->name = at.value;
    n->args.push_back(std::move(value));
    advance();
    if (is_op("(") && !parse_call_args(*n)) return nullptr;
    return done(std::move(n));
  }

  ExprPtr parse_test(ExprPtr value) {
    const Token is_token = cur();
    advance();  // is
    bool negated = false;
    if (is_name("not")) {
      negated = true;
      advance();
    }
    const Token at = cur();
    if (at.type != TokenType::kName) return fail(at, fmt::format("expected a test name, got {}", describe(at)));
    auto n = node(ExprKind::kTest, at);
    n->name = at.value;
    n->args.push_back(std::move(value));
    advance();
    if (is_op("(")) {
      if (!parse_call_args(*n)) return nullptr;
    } else if ((cur().type == TokenType::kName || cur().type == TokenType::kString ||
                cur().type == TokenType::kInteger || cur().type == TokenType::kFloat || is_op("(") || is_op("[") ||
                is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      // One argument without parentheses: `x is divisibleby 3`, `x is sameas none`.
      if (is_name("is")) return fail(cur(), "tests cannot be chained with 'is'");
      ExprPtr arg = parse_primary();
      if (arg) arg = parse_postfix(std::move(arg));
      if (!arg) return nullptr;
      n->args.push_back(std::move(arg));
    }
    ExprPtr test = done(std::move(n));
    if (!test || !negated) return test;
    auto neg = node(ExprKind::kNot, is_token);
    neg->args.push_back(std::move(test));
    return done(std::move(neg));
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  std::string error_;
  int recursion_ = 0;
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
  auto body = Parser(tokens).run();
  if (!body) return body;
  HELIX_TRY(check_body(*body, false));
  return body;
}

}  // namespace helix::jinja
