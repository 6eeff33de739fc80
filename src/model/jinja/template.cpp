#include "model/jinja/template.h"

#include "model/jinja/parser.h"

namespace helix::jinja {

Result<Template> Template::parse(std::string_view source, const TemplateOptions& options) {
  auto tokens = tokenize(source, options);
  if (!tokens) return Unexpected{tokens.error()};
  auto body = parse_tokens(*tokens);
  if (!body) return Unexpected{body.error()};
  return Template(std::make_shared<const Body>(std::move(*body)));
}

Result<std::string> Template::render(const Context& variables, const RenderLimits& limits) const {
  Interpreter interpreter(limits);
  return interpreter.render(*body_, variables);
}

}  // namespace helix::jinja
