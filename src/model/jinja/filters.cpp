#include <string>

#include "model/jinja/builtins.h"
#include "model/jinja/filter_table.h"
#include "model/jinja/interpreter.h"

namespace helix::jinja {

namespace {

const FilterTable& filters() {
  static const FilterTable table = [] {
    FilterTable t;
    add_text_filters(t);
    add_sequence_filters(t);
    return t;
  }();
  return table;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

bool has_filter(std::string_view name) { return filters().count(name) > 0; }

Result<Value> call_filter(Interpreter& in, std::string_view name, const Value& value, CallArgs& args) {
  const auto it = filters().find(name);
  if (it == filters().end()) return errorf("no filter named '{}'", name);
  return it->second(in, value, args);
}

Result<Value> attribute_of(Interpreter& in, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return in.get_item(item, attribute);
  Value current = item;
  std::string_view path = attribute.as_string();
  while (true) {
    const size_t dot = path.find('.');
    const std::string_view part = path.substr(0, dot);
    if (current.is_undefined()) return make_error(current.undefined_hint());
    auto next = all_digits(part) && part.size() < 18
                    ? in.get_item(current, Value::integer(std::stoll(std::string(part))))
                    : in.get_item(current, Value::string(std::string(part)));
    if (!next) return next;
    current = std::move(*next);
    if (dot == std::string_view::npos) return current;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace helix::jinja
