// Argument binding for the built-ins, and the global functions: range, namespace, dict, and those
// transformers adds: raise_exception, strftime_now.
#include <fmt/format.h>

#include <ctime>

#include "model/jinja/builtins.h"
#include "model/jinja/interpreter.h"

namespace helix::jinja {

Result<std::vector<Value>> bind_args(std::string_view function, CallArgs& args, std::initializer_list<Param> params) {
  if (args.positional.size() > params.size()) {
    return errorf("{}() takes at most {} arguments ({} given)", function, params.size(), args.positional.size());
  }
  std::vector<std::optional<Value>> bound(params.size());
  for (size_t i = 0; i < args.positional.size(); ++i) bound[i] = args.positional[i];
  for (auto& [key, value] : args.keyword) {
    size_t index = 0;
    for (const Param& p : params) {
      if (p.name == key) break;
      ++index;
    }
    if (index == params.size()) return errorf("{}() got an unexpected keyword argument '{}'", function, key);
    if (bound[index]) return errorf("{}() got multiple values for argument '{}'", function, key);
    bound[index] = value;
  }
  std::vector<Value> out;
  out.reserve(params.size());
  size_t index = 0;
  for (const Param& p : params) {
    if (bound[index]) {
      out.push_back(std::move(*bound[index]));
    } else if (p.fallback) {
      out.push_back(*p.fallback);
    } else {
      return errorf("{}() missing required argument '{}'", function, p.name);
    }
    ++index;
  }
  return out;
}

namespace {

Result<Value> range_fn(Interpreter& in, CallArgs& args) {
  if (!args.keyword.empty()) return make_error("range() takes no keyword arguments");
  if (args.positional.empty() || args.positional.size() > 3) {
    return errorf("range() takes 1 to 3 arguments ({} given)", args.positional.size());
  }
  for (const auto& a : args.positional) {
    if (!a.is_integral()) return errorf("range() arguments must be integers, not '{}'", type_name(a));
  }
  int64_t start = 0;
  int64_t stop = 0;
  int64_t step = 1;
  if (args.positional.size() == 1) {
    stop = args.positional[0].as_int();
  } else {
    start = args.positional[0].as_int();
    stop = args.positional[1].as_int();
    if (args.positional.size() == 3) step = args.positional[2].as_int();
  }
  if (step == 0) return make_error("range() arg 3 must not be zero");
  // In 128 bits: the bounds may be far enough apart to overflow int64 arithmetic.
  const __int128 span = static_cast<__int128>(stop) - start;
  __int128 count = step > 0 ? (span + step - 1) / step : (span + step + 1) / step;
  if (count < 0) count = 0;
  if (count > static_cast<__int128>(in.limits().max_work_bytes / sizeof(Value))) {
    return errorf("range() of {} items is over the work limit", static_cast<double>(count));
  }
  const auto n = static_cast<size_t>(count);
  HELIX_TRY(in.check_list(n));
  std::vector<Value> items;
  items.reserve(n);
  for (size_t i = 0; i < n; ++i) items.push_back(Value::integer(start + static_cast<int64_t>(i) * step));
  return Value::make_list(std::move(items));
}

Result<std::vector<std::pair<Value, Value>>> dict_entries(std::string_view function, CallArgs& args) {
  std::vector<std::pair<Value, Value>> entries;
  if (args.positional.size() > 1) return errorf("{}() takes at most 1 positional argument", function);
  if (args.positional.size() == 1) {
    const Value& from = args.positional[0];
    if (!from.is_dict() || from.is_namespace()) return errorf("{}() needs a dict as its positional argument", function);
    entries = from.dict().entries;
  }
  for (auto& [key, value] : args.keyword) entries.emplace_back(Value::string(key), value);
  return entries;
}

Result<Value> namespace_fn(Interpreter& in, CallArgs& args) {
  auto entries = dict_entries("namespace", args);
  if (!entries) return Unexpected{entries.error()};
  HELIX_TRY(in.check_list(entries->size()));
  Value ns = Value::make_namespace(std::move(*entries));
  in.adopt_namespace(ns);
  return ns;
}

Result<Value> dict_fn(Interpreter& in, CallArgs& args) {
  auto entries = dict_entries("dict", args);
  if (!entries) return Unexpected{entries.error()};
  HELIX_TRY(in.check_list(entries->size()));
  return Value::make_dict(std::move(*entries));
}

// Hugging Face templates call raise_exception(message) to refuse a conversation.
Result<Value> raise_exception_fn(Interpreter& in, CallArgs& args) {
  auto bound = bind_args("raise_exception", args, {{"message", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  auto text = in.str((*bound)[0]);
  if (!text) return Unexpected{text.error()};
  return Unexpected{Error{std::move(*text), std::string(kRaisedErrorParam)}};
}

// transformers' strftime_now(format): the local time, for templates that print today's date.
Result<Value> strftime_now_fn(Interpreter& in, CallArgs& args) {
  auto bound = bind_args("strftime_now", args, {{"format", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  if (!(*bound)[0].is_string()) return make_error("strftime_now() format must be a string");
  const std::string& format = (*bound)[0].as_string();
  if (format.size() > 256) return make_error("strftime_now() format is longer than 256 bytes");
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[2048];
  const size_t n = std::strftime(buf, sizeof(buf), format.c_str(), &local);
  if (n == 0 && !format.empty()) return make_error("strftime_now() result is empty or too long");
  HELIX_TRY(in.check_string(n));
  return Value::string(std::string(buf, n));
}

}  // namespace

std::optional<Value> builtin_global(std::string_view name) {
  static const Value kRange = Value::function("range", range_fn);
  static const Value kNamespace = Value::function("namespace", namespace_fn);
  static const Value kDict = Value::function("dict", dict_fn);
  static const Value kRaise = Value::function("raise_exception", raise_exception_fn);
  static const Value kStrftime = Value::function("strftime_now", strftime_now_fn);
  if (name == "range") return kRange;
  if (name == "namespace") return kNamespace;
  if (name == "dict") return kDict;
  if (name == "raise_exception") return kRaise;
  if (name == "strftime_now") return kStrftime;
  return std::nullopt;
}

}  // namespace helix::jinja
