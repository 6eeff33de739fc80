// Jinja lexer: template text -> data and tag tokens, applying whitespace control the way Jinja2 3.x
// does (its lexer.py is the reference):
//  - `{%-` `{{-` `{#-` strip all whitespace before the tag; `-%}` `-}}` `-#}` strip all after it.
//  - trim_blocks: the first newline right after a block tag or comment (`%}`, `#}`) is removed;
//    `+%}` keeps it. Never after `}}`.
//  - lstrip_blocks: spaces and tabs from the start of a line up to a block tag or comment are removed
//    when nothing else precedes the tag on that line; `{%+` keeps them. Never before `{{`.
//  - newlines are normalized to \n and one trailing newline of the template is dropped
//    (keep_trailing_newline off).
//  - `{% raw %}...{% endraw %}` becomes data as written.
// Inside tags, `}}`/`%}` end the tag only outside brackets, as in Jinja.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace helix::jinja {

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

enum class TokenType : uint8_t {
  kData,
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,  // value: the unescaped text
  kInteger,
  kFloat,
  kOperator,  // value: the operator text ("+", "//", "(", ...)
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string value;
  int64_t int_value = 0;
  double float_value = 0.0;
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes
};

// Errors read "line L, column C: ...".
Result<std::vector<Token>> tokenize(std::string_view source, const LexOptions& options);

// "line L, column C" of a byte offset, for messages.
std::string describe_location(int line, int column);

}  // namespace helix::jinja
