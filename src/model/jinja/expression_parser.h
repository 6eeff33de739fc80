// Jinja expressions, with Jinja2's grammar and operator precedence (parser.py): condexpr < or < and <
// not < comparisons/in < + - < ~ < * / // % < ** < unary -/+ < postfix (.attr [key] (call)) and
// filters/tests. Every node's depth is bounded (kMaxExpressionDepth), and so is the recursion that
// parses it, so no input can exhaust the stack here or when the tree is evaluated.
#pragma once

#include <string>
#include <vector>

#include "model/jinja/ast.h"
#include "model/jinja/token_cursor.h"

namespace helix::jinja {

inline constexpr int kMaxExpressionDepth = 128;  // nodes on any path of an expression tree

class ExpressionParser {
 public:
  explicit ExpressionParser(TokenCursor& cursor) : c_(cursor) {}

  // A comma-separated list becomes a tuple; it ends at '}}', '%}', ')' or a name in `extra_end`.
  // Returns null on error (recorded in the cursor).
  ExprPtr parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parens);
  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

 private:
  // Recursion guard for the parse functions themselves (deep parentheses, `not not not ...`).
  struct Guard {
    explicit Guard(ExpressionParser& p) : parser(p) { ++parser.recursion_; }
    ~Guard() { --parser.recursion_; }
    bool ok() const { return parser.recursion_ <= kMaxExpressionDepth; }
    ExpressionParser& parser;
  };

  ExprPtr node(ExprKind kind, const Token& at);
  ExprPtr done(ExprPtr e);
  bool is_tuple_end(const std::vector<std::string>& extra_end) const;
  ExprPtr parse_condexpr();
  ExprPtr binary_chain(ExprKind kind, std::string op, ExprPtr left, ExprPtr right, const Token& at);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr n);
  ExprPtr parse_filter_expr(ExprPtr n);
  ExprPtr parse_subscript(ExprPtr target);
  ExprPtr parse_subscribed();
  bool parse_call_args(Expr& n);
  ExprPtr parse_call(ExprPtr callee);
  ExprPtr parse_filter(ExprPtr value);
  ExprPtr parse_test(ExprPtr value);

  TokenCursor& c_;
  int recursion_ = 0;
};

}  // namespace helix::jinja
