#include "model/jinja/expression_parser.h"

#include <fmt/format.h>

#include <algorithm>

namespace helix::jinja {

ExprPtr ExpressionParser::node(ExprKind kind, const Token& at) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = at.line;
  e->column = at.column;
  return e;
}

// Bounds the depth of every finished node, so evaluating and destroying the tree stays shallow
// even for long chains like 1+1+1+... that the parser builds without recursing.
ExprPtr ExpressionParser::done(ExprPtr e) {
  int depth = 0;
  for (const auto& a : e->args) {
    if (a) depth = std::max(depth, a->depth);
  }
  for (const auto& [k, v] : e->kwargs) depth = std::max(depth, v->depth);
  e->depth = depth + 1;
  if (depth + 1 > kMaxExpressionDepth) {
    return c_.fail(e->line, e->column, fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
  }
  return e;
}

bool ExpressionParser::is_tuple_end(const std::vector<std::string>& extra_end) const {
  return c_.cur().type == TokenType::kVariableEnd || c_.cur().type == TokenType::kBlockEnd || c_.is_op(")") ||
         c_.is_any_name(extra_end);
}

ExprPtr ExpressionParser::parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end,
                                      bool explicit_parens) {
  const Token at = c_.cur();
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty() && !c_.expect_op(",")) return nullptr;
    if (is_tuple_end(extra_end)) break;
    ExprPtr e = parse_expression(with_condexpr);
    if (!e) return nullptr;
    items.push_back(std::move(e));
    if (c_.is_op(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) return c_.fail(c_.cur(), fmt::format("expected an expression, got {}", describe(c_.cur())));
  }
  auto t = node(ExprKind::kTuple, at);
  t->args = std::move(items);
  return done(std::move(t));
}

ExprPtr ExpressionParser::parse_condexpr() {
  Guard guard(*this);
  if (!guard.ok())
    return c_.fail(c_.cur(), fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
  const Token at = c_.cur();
  ExprPtr expr = parse_or();
  if (!expr) return nullptr;
  while (c_.is_name("if")) {
    c_.advance();
    auto c = node(ExprKind::kCondExpr, at);
    ExprPtr test = parse_or();
    if (!test) return nullptr;
    ExprPtr otherwise;
    if (c_.is_name("else")) {
      c_.advance();
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

ExprPtr ExpressionParser::binary_chain(ExprKind kind, std::string op, ExprPtr left, ExprPtr right, const Token& at) {
  auto b = node(kind, at);
  b->op = std::move(op);
  b->args.push_back(std::move(left));
  b->args.push_back(std::move(right));
  return done(std::move(b));
}

ExprPtr ExpressionParser::parse_or() {
  const Token at = c_.cur();
  ExprPtr left = parse_and();
  while (left && c_.is_name("or")) {
    c_.advance();
    ExprPtr right = parse_and();
    if (!right) return nullptr;
    left = binary_chain(ExprKind::kOr, "or", std::move(left), std::move(right), at);
  }
  return left;
}

ExprPtr ExpressionParser::parse_and() {
  const Token at = c_.cur();
  ExprPtr left = parse_not();
  while (left && c_.is_name("and")) {
    c_.advance();
    ExprPtr right = parse_not();
    if (!right) return nullptr;
    left = binary_chain(ExprKind::kAnd, "and", std::move(left), std::move(right), at);
  }
  return left;
}

ExprPtr ExpressionParser::parse_not() {
  if (c_.is_name("not")) {
    Guard guard(*this);
    if (!guard.ok())
      return c_.fail(c_.cur(), fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
    auto n = node(ExprKind::kNot, c_.cur());
    c_.advance();
    ExprPtr operand = parse_not();
    if (!operand) return nullptr;
    n->args.push_back(std::move(operand));
    return done(std::move(n));
  }
  return parse_compare();
}

ExprPtr ExpressionParser::parse_compare() {
  const Token at = c_.cur();
  ExprPtr expr = parse_math1();
  if (!expr) return nullptr;
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (c_.cur().type == TokenType::kOperator &&
        (c_.cur().value == "==" || c_.cur().value == "!=" || c_.cur().value == "<" || c_.cur().value == "<=" ||
         c_.cur().value == ">" || c_.cur().value == ">=")) {
      op = c_.cur().value;
      c_.advance();
    } else if (c_.is_name("in")) {
      op = "in";
      c_.advance();
    } else if (c_.is_name("not") && c_.peek().type == TokenType::kName && c_.peek().value == "in") {
      op = "notin";
      c_.advance();
      c_.advance();
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

ExprPtr ExpressionParser::parse_math1() {
  const Token at = c_.cur();
  ExprPtr left = parse_concat();
  while (left && (c_.is_op("+") || c_.is_op("-"))) {
    std::string op = c_.cur().value;
    c_.advance();
    ExprPtr right = parse_concat();
    if (!right) return nullptr;
    left = binary_chain(ExprKind::kBinary, op, std::move(left), std::move(right), at);
  }
  return left;
}

ExprPtr ExpressionParser::parse_concat() {
  const Token at = c_.cur();
  ExprPtr first = parse_math2();
  if (!first || !c_.is_op("~")) return first;
  auto c = node(ExprKind::kConcat, at);
  c->args.push_back(std::move(first));
  while (c_.is_op("~")) {
    c_.advance();
    ExprPtr next = parse_math2();
    if (!next) return nullptr;
    c->args.push_back(std::move(next));
  }
  return done(std::move(c));
}

ExprPtr ExpressionParser::parse_math2() {
  const Token at = c_.cur();
  ExprPtr left = parse_pow();
  while (left && (c_.is_op("*") || c_.is_op("/") || c_.is_op("//") || c_.is_op("%"))) {
    std::string op = c_.cur().value;
    c_.advance();
    ExprPtr right = parse_pow();
    if (!right) return nullptr;
    left = binary_chain(ExprKind::kBinary, op, std::move(left), std::move(right), at);
  }
  return left;
}

ExprPtr ExpressionParser::parse_pow() {
  const Token at = c_.cur();
  ExprPtr left = parse_unary(true);
  while (left && c_.is_op("**")) {
    c_.advance();
    ExprPtr right = parse_unary(true);
    if (!right) return nullptr;
    left = binary_chain(ExprKind::kBinary, "**", std::move(left), std::move(right), at);
  }
  return left;
}

ExprPtr ExpressionParser::parse_unary(bool with_filter) {
  Guard guard(*this);
  if (!guard.ok())
    return c_.fail(c_.cur(), fmt::format("expression nested deeper than {} levels", kMaxExpressionDepth));
  ExprPtr n;
  if (c_.is_op("-") || c_.is_op("+")) {
    n = node(c_.is_op("-") ? ExprKind::kNeg : ExprKind::kPos, c_.cur());
    c_.advance();
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

ExprPtr ExpressionParser::parse_primary() {
  const Token& t = c_.cur();
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
    c_.advance();
    return n;
  }
  if (t.type == TokenType::kString) {
    auto n = node(ExprKind::kLiteral, t);
    std::string s;
    while (c_.cur().type == TokenType::kString) {  // adjacent literals concatenate
      s += c_.cur().value;
      c_.advance();
    }
    n->literal = Value::string(std::move(s));
    return n;
  }
  if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
    auto n = node(ExprKind::kLiteral, t);
    n->literal = t.type == TokenType::kInteger ? Value::integer(t.int_value) : Value::number(t.float_value);
    c_.advance();
    return n;
  }
  if (c_.is_op("(")) {
    c_.advance();
    ExprPtr inner = parse_tuple(true, {}, true);
    if (!inner || !c_.expect_op(")")) return nullptr;
    return inner;
  }
  if (c_.is_op("[")) return parse_list();
  if (c_.is_op("{")) return parse_dict();
  return c_.fail(t, fmt::format("unexpected {}", describe(t)));
}

ExprPtr ExpressionParser::parse_list() {
  auto n = node(ExprKind::kList, c_.cur());
  c_.advance();
  while (!c_.is_op("]")) {
    if (!n->args.empty() && !c_.expect_op(",")) return nullptr;
    if (c_.is_op("]")) break;
    ExprPtr item = parse_expression(true);
    if (!item) return nullptr;
    n->args.push_back(std::move(item));
  }
  c_.advance();
  return done(std::move(n));
}

ExprPtr ExpressionParser::parse_dict() {
  auto n = node(ExprKind::kDict, c_.cur());
  c_.advance();
  while (!c_.is_op("}")) {
    if (!n->args.empty() && !c_.expect_op(",")) return nullptr;
    if (c_.is_op("}")) break;
    ExprPtr key = parse_expression(true);
    if (!key || !c_.expect_op(":")) return nullptr;
    ExprPtr value = parse_expression(true);
    if (!value) return nullptr;
    n->args.push_back(std::move(key));
    n->args.push_back(std::move(value));
  }
  c_.advance();
  return done(std::move(n));
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr n) {
  while (n) {
    if (c_.is_op(".") || c_.is_op("[")) {
      n = parse_subscript(std::move(n));
    } else if (c_.is_op("(")) {
      n = parse_call(std::move(n));
    } else {
      break;
    }
  }
  return n;
}

ExprPtr ExpressionParser::parse_filter_expr(ExprPtr n) {
  while (n) {
    if (c_.is_op("|")) {
      n = parse_filter(std::move(n));
    } else if (c_.is_name("is")) {
      n = parse_test(std::move(n));
    } else if (c_.is_op("(")) {
      n = parse_call(std::move(n));
    } else {
      break;
    }
  }
  return n;
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr target) {
  const Token at = c_.cur();
  if (c_.is_op(".")) {
    c_.advance();
    const Token& attr = c_.cur();
    if (attr.type == TokenType::kName) {
      auto n = node(ExprKind::kGetAttr, at);
      n->name = attr.value;
      n->args.push_back(std::move(target));
      c_.advance();
      return done(std::move(n));
    }
    if (attr.type != TokenType::kInteger) return c_.fail(attr, "expected an attribute name or number after '.'");
    auto n = node(ExprKind::kGetItem, at);
    auto key = node(ExprKind::kLiteral, attr);
    key->literal = Value::integer(attr.int_value);
    n->args.push_back(std::move(target));
    n->args.push_back(std::move(key));
    c_.advance();
    return done(std::move(n));
  }
  c_.advance();  // [
  std::vector<ExprPtr> keys;
  while (!c_.is_op("]")) {
    if (!keys.empty() && !c_.expect_op(",")) return nullptr;
    ExprPtr key = parse_subscribed();
    if (!key) return nullptr;
    keys.push_back(std::move(key));
  }
  c_.advance();
  if (keys.empty()) return c_.fail(at, "expected a subscript between '[' and ']'");
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
ExprPtr ExpressionParser::parse_subscribed() {
  const Token at = c_.cur();
  ExprPtr start;
  if (c_.is_op(":")) {
    c_.advance();
  } else {
    start = parse_expression(true);
    if (!start) return nullptr;
    if (!c_.is_op(":")) return start;
    c_.advance();
  }
  auto slice = node(ExprKind::kSlice, at);
  slice->args.push_back(std::move(start));
  ExprPtr stop;
  if (!c_.is_op(":") && !c_.is_op("]") && !c_.is_op(",")) {
    stop = parse_expression(true);
    if (!stop) return nullptr;
  }
  slice->args.push_back(std::move(stop));
  ExprPtr step;
  if (c_.is_op(":")) {
    c_.advance();
    if (!c_.is_op("]") && !c_.is_op(",")) {
      step = parse_expression(true);
      if (!step) return nullptr;
    }
  }
  slice->args.push_back(std::move(step));
  return done(std::move(slice));
}

// ( args ) into n->args (after those already there) and n->kwargs.
bool ExpressionParser::parse_call_args(Expr& n) {
  if (!c_.expect_op("(")) return false;
  bool first = true;
  while (!c_.is_op(")")) {
    if (!first) {
      if (!c_.expect_op(",")) return false;
      if (c_.is_op(")")) break;
    }
    first = false;
    if (c_.is_op("*") || c_.is_op("**")) return c_.fail_bool(c_.cur(), "*args and **kwargs in calls are not supported");
    if (c_.cur().type == TokenType::kName && c_.peek().type == TokenType::kOperator && c_.peek().value == "=") {
      std::string key = c_.cur().value;
      c_.advance();
      c_.advance();
      ExprPtr value = parse_expression(true);
      if (!value) return false;
      n.kwargs.emplace_back(std::move(key), std::move(value));
    } else {
      if (!n.kwargs.empty()) return c_.fail_bool(c_.cur(), "positional argument follows keyword argument");
      ExprPtr value = parse_expression(true);
      if (!value) return false;
      n.args.push_back(std::move(value));
    }
  }
  c_.advance();
  return true;
}

ExprPtr ExpressionParser::parse_call(ExprPtr callee) {
  auto n = node(ExprKind::kCall, c_.cur());
  n->args.push_back(std::move(callee));
  if (!parse_call_args(*n)) return nullptr;
  return done(std::move(n));
}

ExprPtr ExpressionParser::parse_filter(ExprPtr value) {
  c_.advance();  // |
  const Token at = c_.cur();
  if (at.type != TokenType::kName) return c_.fail(at, fmt::format("expected a filter name, got {}", describe(at)));
  auto n = node(ExprKind::kFilter, at);
  n->name = at.value;
  n->args.push_back(std::move(value));
  c_.advance();
  if (c_.is_op("(") && !parse_call_args(*n)) return nullptr;
  return done(std::move(n));
}

ExprPtr ExpressionParser::parse_test(ExprPtr value) {
  const Token is_token = c_.cur();
  c_.advance();  // is
  bool negated = false;
  if (c_.is_name("not")) {
    negated = true;
    c_.advance();
  }
  const Token at = c_.cur();
  if (at.type != TokenType::kName) return c_.fail(at, fmt::format("expected a test name, got {}", describe(at)));
  auto n = node(ExprKind::kTest, at);
  n->name = at.value;
  n->args.push_back(std::move(value));
  c_.advance();
  if (c_.is_op("(")) {
    if (!parse_call_args(*n)) return nullptr;
  } else if ((c_.cur().type == TokenType::kName || c_.cur().type == TokenType::kString ||
              c_.cur().type == TokenType::kInteger || c_.cur().type == TokenType::kFloat || c_.is_op("(") ||
              c_.is_op("[") || c_.is_op("{")) &&
             !c_.is_name("else") && !c_.is_name("or") && !c_.is_name("and")) {
    // One argument without parentheses: `x is divisibleby 3`, `x is sameas none`.
    if (c_.is_name("is")) return c_.fail(c_.cur(), "tests cannot be chained with 'is'");
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

}  // namespace helix::jinja
