// Jinja parser: tokens -> statement tree, following Jinja2's grammar and operator precedence
// (parser.py): condexpr < or < and < not < comparisons/in < + - < ~ < * / // % < ** < unary -/+ <
// postfix (.attr [key] (call)) and filters/tests. Filter and test names are checked here, as Jinja
// does when it compiles. Nesting is bounded so no input can exhaust the stack.
#pragma once

#include <vector>

#include "common/result.h"
#include "model/jinja/ast.h"
#include "model/jinja/lexer.h"

namespace helix::jinja {

inline constexpr int kMaxExpressionDepth = 128;  // nodes on any path of an expression tree
inline constexpr int kMaxBlockDepth = 64;        // nested {% for %} / {% if %} / ... blocks

// Errors read "line L, column C: ...".
Result<Body> parse_tokens(const std::vector<Token>& tokens);

}  // namespace helix::jinja
