// Methods of str and dict that templates call (`content.strip()`, `message.items()`), with Python's
// semantics. Methods that would change an object do not exist, as in Jinja's immutable sandbox.
#include <fmt/format.h>

#include <span>
#include <string>

#include "model/jinja/builtins.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/py_string.h"
#include "model/utf8.h"

namespace helix::jinja {

namespace {

using Method = Result<Value> (*)(Interpreter&, const Value& self, CallArgs&);

Result<std::optional<std::string_view>> optional_string(std::string_view fn, const Value& v) {
  if (v.is_none()) return std::optional<std::string_view>{};
  if (!v.is_string()) return errorf("{}() argument must be str or None, not {}", fn, type_name(v));
  return std::optional<std::string_view>{v.as_string()};
}

Result<int64_t> int_arg(std::string_view fn, const Value& v) {
  if (!v.is_integral()) return errorf("{}() argument must be an integer, not {}", fn, type_name(v));
  return v.as_int();
}

Value string_list(Interpreter& in, const std::vector<std::string_view>& parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (std::string_view p : parts) items.push_back(Value::string(std::string(p)));
  (void)in;
  return Value::make_list(std::move(items));
}

template <bool kLeft, bool kRight>
Result<Value> strip_method(Interpreter& in, const Value& self, CallArgs& args) {
  const char* name = kLeft && kRight ? "strip" : kLeft ? "lstrip" : "rstrip";
  auto bound = bind_args(name, args, {{"chars", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto chars = optional_string(name, (*bound)[0]);
  if (!chars) return Unexpected{chars.error()};
  HELIX_TRY(in.charge(self.as_string().size()));
  return Value::string(std::string(py_strip(self.as_string(), kLeft, kRight, *chars)));
}

template <bool kFromRight>
Result<Value> split_method(Interpreter& in, const Value& self, CallArgs& args) {
  const char* name = kFromRight ? "rsplit" : "split";
  auto bound = bind_args(name, args, {{"sep", Value::none()}, {"maxsplit", Value::integer(-1)}});
  if (!bound) return Unexpected{bound.error()};
  auto sep = optional_string(name, (*bound)[0]);
  if (!sep) return Unexpected{sep.error()};
  auto maxsplit = int_arg(name, (*bound)[1]);
  if (!maxsplit) return Unexpected{maxsplit.error()};
  const std::string& s = self.as_string();
  HELIX_TRY(in.check_list(s.size() + 1));
  HELIX_TRY(in.charge(s.size()));
  if (*sep && (*sep)->empty()) return make_error("empty separator");
  std::vector<std::string_view> parts;
  if (!*sep) {
    if (kFromRight && *maxsplit >= 0) {
      // Mirror of split(): split the reversed code points, then reverse back.
      std::string reversed;
      auto chars = py_chars(s);
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) reversed += *it;
      std::vector<Value> items;
      for (std::string_view part : py_split_whitespace(reversed, *maxsplit)) {
        std::string back;
        auto part_chars = py_chars(part);
        for (auto it = part_chars.rbegin(); it != part_chars.rend(); ++it) back += *it;
        items.insert(items.begin(), Value::string(std::move(back)));
      }
      return Value::make_list(std::move(items));
    }
    parts = py_split_whitespace(s, *maxsplit);
  } else {
    parts = kFromRight ? py_rsplit(s, **sep, *maxsplit) : py_split(s, **sep, *maxsplit);
  }
  return string_list(in, parts);
}

Result<Value> splitlines_method(Interpreter& in, const Value& self, CallArgs& args) {
  auto bound = bind_args("splitlines", args, {});
  if (!bound) return Unexpected{bound.error()};
  HELIX_TRY(in.check_list(self.as_string().size() + 1));
  return string_list(in, py_splitlines(self.as_string()));
}

// startswith / endswith take a string or a tuple of strings.
template <bool kStart>
Result<Value> affix_method(Interpreter&, const Value& self, CallArgs& args) {
  const char* name = kStart ? "startswith" : "endswith";
  auto bound = bind_args(name, args, {{kStart ? "prefix" : "suffix", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  const Value& affix = (*bound)[0];
  std::vector<Value> candidates;
  if (affix.is_tuple()) {
    candidates = affix.list().items;
  } else {
    candidates.push_back(affix);
  }
  const std::string& s = self.as_string();
  for (const Value& c : candidates) {
    if (!c.is_string()) return errorf("{}() argument must be str or a tuple of str, not {}", name, type_name(c));
    if (kStart ? s.starts_with(c.as_string()) : s.ends_with(c.as_string())) return Value::boolean(true);
  }
  return Value::boolean(false);
}

template <std::string (*kMap)(std::string_view)>
Result<Value> case_method(Interpreter& in, const Value& self, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("the method takes no arguments");
  HELIX_TRY(in.check_string(self.as_string().size() * 2));
  return Value::string(kMap(self.as_string()));
}

template <bool (*kTest)(std::string_view)>
Result<Value> is_method(Interpreter&, const Value& self, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("the method takes no arguments");
  return Value::boolean(kTest(self.as_string()));
}

Result<Value> replace_method(Interpreter& in, const Value& self, CallArgs& args) {
  auto bound =
      bind_args("replace", args, {{"old", std::nullopt}, {"new", std::nullopt}, {"count", Value::integer(-1)}});
  if (!bound) return Unexpected{bound.error()};
  const Value& old = (*bound)[0];
  const Value& replacement = (*bound)[1];
  if (!old.is_string() || !replacement.is_string()) return make_error("replace() arguments must be str");
  auto count = int_arg("replace", (*bound)[2]);
  if (!count) return Unexpected{count.error()};
  CallArgs filter_args;
  filter_args.positional = {old, replacement, Value::integer(*count)};
  return in.apply_filter("replace", self, filter_args);
}

// find / rfind / count return code point positions, as Python does.
size_t cp_index(std::string_view s, size_t byte_offset) {
  size_t n = 0;
  for (size_t pos = 0; pos < byte_offset; pos += utf8_decode_at(s, pos).length) ++n;
  return n;
}

template <bool kReverse>
Result<Value> find_method(Interpreter&, const Value& self, CallArgs& args) {
  const char* name = kReverse ? "rfind" : "find";
  auto bound = bind_args(name, args, {{"sub", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  if (!(*bound)[0].is_string()) return errorf("{}() argument must be str", name);
  const std::string& s = self.as_string();
  const size_t at = kReverse ? s.rfind((*bound)[0].as_string()) : s.find((*bound)[0].as_string());
  if (at == std::string::npos) return Value::integer(-1);
  return Value::integer(static_cast<int64_t>(cp_index(s, at)));
}

Result<Value> count_method(Interpreter&, const Value& self, CallArgs& args) {
  auto bound = bind_args("count", args, {{"sub", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  if (!(*bound)[0].is_string()) return make_error("count() argument must be str");
  const std::string& s = self.as_string();
  const std::string& sub = (*bound)[0].as_string();
  if (sub.empty()) return Value::integer(static_cast<int64_t>(py_chars(s).size()) + 1);
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
  return Value::integer(n);
}

Result<Value> join_method(Interpreter& in, const Value& self, CallArgs& args) {
  auto bound = bind_args("join", args, {{"iterable", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  auto items = in.iterate((*bound)[0]);
  if (!items) return Unexpected{items.error()};
  for (const Value& item : *items) {
    if (!item.is_string()) return errorf("join() expects str items, got '{}'", type_name(item));
  }
  CallArgs filter_args;
  filter_args.positional = {self};
  return in.apply_filter("join", Value::make_list(std::move(*items)), filter_args);
}

Result<Value> items_method(Interpreter& in, const Value& self, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("items() takes no arguments");
  CallArgs none;
  return in.apply_filter("items", self, none);
}

Result<Value> keys_method(Interpreter& in, const Value& self, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("keys() takes no arguments");
  HELIX_TRY(in.check_list(self.dict().entries.size()));
  std::vector<Value> keys;
  for (const auto& [k, v] : self.dict().entries) keys.push_back(k);
  return Value::make_list(std::move(keys));
}

Result<Value> values_method(Interpreter& in, const Value& self, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("values() takes no arguments");
  HELIX_TRY(in.check_list(self.dict().entries.size()));
  std::vector<Value> values;
  for (const auto& [k, v] : self.dict().entries) values.push_back(v);
  return Value::make_list(std::move(values));
}

Result<Value> get_method(Interpreter&, const Value& self, CallArgs& args) {
  auto bound = bind_args("get", args, {{"key", std::nullopt}, {"default", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  if (!hashable((*bound)[0])) return errorf("unhashable type: '{}'", type_name((*bound)[0]));
  if (const Value* v = self.dict().find((*bound)[0])) return *v;
  return (*bound)[1];
}

Result<Value> list_count_method(Interpreter&, const Value& self, CallArgs& args) {
  auto bound = bind_args("count", args, {{"value", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  int64_t n = 0;
  for (const Value& item : self.list().items) n += equals(item, (*bound)[0]) ? 1 : 0;
  return Value::integer(n);
}

Result<Value> list_index_method(Interpreter&, const Value& self, CallArgs& args) {
  auto bound = bind_args("index", args, {{"value", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  const auto& items = self.list().items;
  for (size_t i = 0; i < items.size(); ++i) {
    if (equals(items[i], (*bound)[0])) return Value::integer(static_cast<int64_t>(i));
  }
  std::string repr;
  append_repr(repr, (*bound)[0], 0, 200);
  return errorf("{} is not in {}", repr, type_name(self));
}

struct NamedMethod {
  std::string_view name;
  Method method;
};

constexpr NamedMethod kStringMethods[] = {
    {"strip", strip_method<true, true>},
    {"lstrip", strip_method<true, false>},
    {"rstrip", strip_method<false, true>},
    {"split", split_method<false>},
    {"rsplit", split_method<true>},
    {"splitlines", splitlines_method},
    {"startswith", affix_method<true>},
    {"endswith", affix_method<false>},
    {"upper", case_method<py_upper>},
    {"lower", case_method<py_lower>},
    {"title", case_method<py_title>},
    {"capitalize", case_method<py_capitalize>},
    {"replace", replace_method},
    {"find", find_method<false>},
    {"rfind", find_method<true>},
    {"count", count_method},
    {"join", join_method},
    {"isdigit", is_method<py_isdigit>},
    {"isalpha", is_method<py_isalpha>},
    {"isalnum", is_method<py_isalnum>},
    {"isspace", is_method<py_isspace>},
    {"islower", is_method<py_islower>},
    {"isupper", is_method<py_isupper>},
};

constexpr NamedMethod kDictMethods[] = {
    {"items", items_method},
    {"keys", keys_method},
    {"values", values_method},
    {"get", get_method},
};

constexpr NamedMethod kListMethods[] = {
    {"count", list_count_method},
    {"index", list_index_method},
};

}  // namespace

std::optional<Value> bound_method(const Value& object, std::string_view name) {
  std::span<const NamedMethod> table;
  if (object.is_string()) {
    table = kStringMethods;
  } else if (object.is_dict() && !object.is_namespace()) {
    table = kDictMethods;
  } else if (object.is_list()) {
    table = kListMethods;
  } else {
    return std::nullopt;
  }
  for (const NamedMethod& m : table) {
    if (m.name == name) {
      const Method method = m.method;
      return Value::function(std::string(name),
                             [object, method](Interpreter& in, CallArgs& args) { return method(in, object, args); });
    }
  }
  return std::nullopt;
}

}  // namespace helix::jinja
