// The built-in filters, tests, methods of str and dict, and global functions a template can use,
// with Python's and Jinja's semantics (and transformers' tojson, which keeps non-ASCII text).
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "model/jinja/value.h"

namespace helix::jinja {

class Interpreter;

bool has_filter(std::string_view name);
bool has_test(std::string_view name);
Result<Value> call_filter(Interpreter& in, std::string_view name, const Value& value, CallArgs& args);
Result<bool> call_test(Interpreter& in, std::string_view name, const Value& value, CallArgs& args);

// `'text'.strip`, `d.items`: the method bound to its object, or nothing when str/dict has no such method.
std::optional<Value> bound_method(const Value& object, std::string_view name);

// range, namespace, dict, raise_exception, strftime_now; nothing for other names.
std::optional<Value> builtin_global(std::string_view name);

// json.dumps(value, ensure_ascii, indent, separators, sort_keys) as transformers' tojson filter calls it.
struct JsonOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // the indent text per level (indent=2 -> "  ")
  std::string item_separator = ", ";  // ", " ("," when indenting)
  std::string key_separator = ": ";
  bool sort_keys = false;
};
Result<std::string> to_json(const Value& value, const JsonOptions& options, size_t max_bytes);

// Binds call arguments to parameters by position, then by keyword; absent ones get their default.
// Errors name the function: "replace() missing required argument 'new'".
struct Param {
  std::string_view name;
  std::optional<Value> fallback;  // nothing: required
};
Result<std::vector<Value>> bind_args(std::string_view function, CallArgs& args, std::initializer_list<Param> params);

}  // namespace helix::jinja
