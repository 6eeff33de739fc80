// A small Jinja2 engine for chat templates (tokenizer.chat_template of GGUF files, chat_template of
// Hugging Face tokenizer configs). It implements the part of Jinja2 3.x those templates use, with
// Jinja's semantics: statements for/if/elif/else/set (names, tuples, namespace attributes, blocks),
// macro, break/continue, raw, generation; comments; whitespace control (-, +, trim_blocks,
// lstrip_blocks); literals, names, attributes, subscripts and slices, calls, filters, tests, the
// Python operators, Jinja's undefined values; str/dict/list methods; range, namespace, dict and
// Hugging Face's raise_exception and strftime_now. Not supported: template inheritance and includes,
// call and filter blocks, recursive loops, autoescaping, *args/**kwargs, Python %-formatting.
//
//   auto tmpl = jinja::Template::parse(source);          // trim_blocks and lstrip_blocks on
//   auto text = tmpl->render({{"messages", messages}});  // or an Error naming line and column
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "model/jinja/ast.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/lexer.h"

namespace helix::jinja {

// Lexer options; the defaults are the settings of transformers' apply_chat_template.
using TemplateOptions = LexOptions;

class Template {
 public:
  // A template that does not parse gives "line L, column C: what is wrong".
  static Result<Template> parse(std::string_view source, const TemplateOptions& options = {});

  // Renders with the given variables. Errors: "line L, column C: message" for runtime errors
  // (an attribute of an undefined value, a type error, a limit); raise_exception(msg) gives `msg`
  // itself with Error::param == kRaisedErrorParam. Safe to call from several threads at once.
  Result<std::string> render(const Context& variables, const RenderLimits& limits = {}) const;

 private:
  explicit Template(std::shared_ptr<const Body> body) : body_(std::move(body)) {}
  std::shared_ptr<const Body> body_;
};

}  // namespace helix::jinja
