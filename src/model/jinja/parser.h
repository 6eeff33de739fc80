// Jinja parser: tokens -> statement tree, following Jinja2's grammar (parser.py); expressions are in
// expression_parser.h. Filter and test names are checked here, as Jinja does when it compiles.
// Nesting is bounded so no input can exhaust the stack.
#pragma once

#include <vector>

#include "common/result.h"
#include "model/jinja/ast.h"
#include "model/jinja/expression_parser.h"
#include "model/jinja/lexer.h"

namespace helix::jinja {

inline constexpr int kMaxBlockDepth = 64;  // nested {% for %} / {% if %} / ... blocks

// Errors read "line L, column C: ...".
Result<Body> parse_tokens(const std::vector<Token>& tokens);

}  // namespace helix::jinja
