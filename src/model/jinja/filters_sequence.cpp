// Filters over sequences and mappings: first, join, map, select, sort, ...
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "model/jinja/builtins.h"
#include "model/jinja/filter_table.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/operators.h"
#include "model/jinja/py_string.h"

namespace helix::jinja {

namespace {

Status no_args(std::string_view name, const CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return errorf("{}() takes no arguments", name);
  return {};
}

Result<Value> first_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("first", args));
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  if (items->empty()) return Value::undefined("No first item, sequence was empty.");
  return items->front();
}

Result<Value> last_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("last", args));
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  if (items->empty()) return Value::undefined("No last item, sequence was empty.");
  return items->back();
}

Result<Value> length_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("length", args));
  auto n = in.length(value);
  if (!n) return Unexpected{n.error()};
  return Value::integer(*n);
}

Result<Value> list_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("list", args));
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  HELIX_TRY(in.check_list(items->size()));
  return Value::make_list(std::move(*items));
}

Result<Value> attr_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("attr", args, {{"name", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  if (value.is_undefined()) return make_error(value.undefined_hint());
  if (!(*bound)[0].is_string()) return make_error("attr() name must be a string");
  return in.get_attr(value, (*bound)[0].as_string());
}

Result<Value> items_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("items", args));
  if (value.is_undefined()) return Value::make_list({});
  if (!value.is_dict() || value.is_namespace()) return make_error("Can only get item pairs from a mapping.");
  HELIX_TRY(in.check_list(value.dict().entries.size() * 3));
  std::vector<Value> items;
  for (const auto& [k, v] : value.dict().entries) items.push_back(Value::make_tuple({k, v}));
  return Value::make_list(std::move(items));
}

Result<Value> join_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("join", args, {{"d", Value::string("")}, {"attribute", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto separator = in.str((*bound)[0]);
  if (!separator) return Unexpected{separator.error()};
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  std::string out;
  for (size_t i = 0; i < items->size(); ++i) {
    Value item = (*items)[i];
    if (!(*bound)[1].is_none()) {
      auto attr = attribute_of(in, item, (*bound)[1]);
      if (!attr) return attr;
      item = std::move(*attr);
    }
    if (i > 0) out += *separator;
    append_str(out, item, in.limits().max_output_bytes);
    if (out.size() > in.limits().max_output_bytes) break;
  }
  HELIX_TRY(in.check_string(out.size()));
  return Value::string(std::move(out));
}

Result<Value> map_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  std::vector<Value> out;
  if (args.positional.empty()) {
    auto bound = bind_args("map", args, {{"attribute", std::nullopt}, {"default", Value()}});
    if (!bound) return Unexpected{bound.error()};
    for (const Value& item : *items) {
      auto attr = attribute_of(in, item, (*bound)[0]);
      if (!attr) return attr;
      out.push_back(attr->is_undefined() && !(*bound)[1].is_undefined() ? (*bound)[1] : *attr);
    }
  } else {
    if (!args.positional[0].is_string()) return make_error("map() needs a filter name or attribute=");
    const std::string name = args.positional[0].as_string();
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const Value& item : *items) {
      CallArgs call = rest;
      auto mapped = in.apply_filter(name, item, call);
      if (!mapped) return mapped;
      out.push_back(std::move(*mapped));
    }
  }
  HELIX_TRY(in.check_list(out.size()));
  return Value::make_list(std::move(out));
}

// select / reject / selectattr / rejectattr.
template <bool kSelect, bool kAttr>
Result<Value> select_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  size_t next = 0;
  Value attribute;
  if (kAttr) {
    if (args.positional.empty()) return make_error("selectattr()/rejectattr() need an attribute name");
    attribute = args.positional[next++];
  }
  std::string test;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string()) return make_error("the test name must be a string");
    test = args.positional[next++].as_string();
  }
  CallArgs test_args;
  test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next), args.positional.end());
  test_args.keyword = args.keyword;
  std::vector<Value> out;
  for (const Value& item : *items) {
    Value subject = item;
    if (kAttr) {
      auto attr = attribute_of(in, item, attribute);
      if (!attr) return attr;
      subject = std::move(*attr);
    }
    bool pass = false;
    if (test.empty()) {
      pass = truthy(subject);
    } else {
      CallArgs call = test_args;
      auto result = in.apply_test(test, subject, call);
      if (!result) return Unexpected{result.error()};
      pass = *result;
    }
    if (pass == kSelect) out.push_back(item);
  }
  HELIX_TRY(in.check_list(out.size()));
  return Value::make_list(std::move(out));
}

// The sort key of an item: its attribute when asked, lower-cased when not case-sensitive.
Result<Value> sort_key(Interpreter& in, const Value& item, const Value& attribute, bool case_sensitive) {
  Value key = item;
  if (!attribute.is_none()) {
    auto attr = attribute_of(in, item, attribute);
    if (!attr) return attr;
    key = std::move(*attr);
  }
  if (!case_sensitive && key.is_string()) return Value::string(py_lower(key.as_string()));
  return key;
}

// Stable sort of `items` by `keys`; the first comparison error is returned (later comparisons then
// report "equal", which keeps std::stable_sort well-defined).
Status sort_by_keys(std::vector<Value>& items, const std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::optional<Error> error;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (error) return false;
    auto c = compare(keys[a], keys[b], "<");
    if (!c) {
      error = c.error();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  if (error) return Unexpected{*error};
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (size_t i : order) sorted.push_back(items[i]);
  items = std::move(sorted);
  return {};
}

Result<Value> sort_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args(
      "sort", args,
      {{"reverse", Value::boolean(false)}, {"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  std::vector<Value> keys;
  for (const Value& item : *items) {
    auto key = sort_key(in, item, (*bound)[2], truthy((*bound)[1]));
    if (!key) return key;
    keys.push_back(std::move(*key));
  }
  HELIX_TRY(in.check_list(items->size() * 2));
  HELIX_TRY(sort_by_keys(*items, keys, truthy((*bound)[0])));
  return Value::make_list(std::move(*items));
}

Result<Value> dictsort_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args(
      "dictsort", args,
      {{"case_sensitive", Value::boolean(false)}, {"by", Value::string("key")}, {"reverse", Value::boolean(false)}});
  if (!bound) return Unexpected{bound.error()};
  if (!value.is_dict() || value.is_namespace()) return make_error("dictsort() needs a dict");
  const bool by_value = (*bound)[1].is_string() && (*bound)[1].as_string() == "value";
  if (!by_value && !((*bound)[1].is_string() && (*bound)[1].as_string() == "key")) {
    return make_error("dictsort() can only sort by 'key' or 'value'");
  }
  std::vector<Value> items;
  std::vector<Value> keys;
  for (const auto& [k, v] : value.dict().entries) {
    items.push_back(Value::make_tuple({k, v}));
    auto key = sort_key(in, by_value ? v : k, Value::none(), truthy((*bound)[0]));
    if (!key) return key;
    keys.push_back(std::move(*key));
  }
  HELIX_TRY(in.check_list(items.size() * 4));
  HELIX_TRY(sort_by_keys(items, keys, truthy((*bound)[2])));
  return Value::make_list(std::move(items));
}

Result<Value> unique_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("unique", args, {{"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  std::vector<Value> out;
  std::vector<Value> seen;
  for (const Value& item : *items) {
    auto key = sort_key(in, item, (*bound)[1], truthy((*bound)[0]));
    if (!key) return key;
    if (!hashable(*key)) return errorf("unhashable type: '{}'", type_name(*key));
    HELIX_TRY(in.step(static_cast<int64_t>(seen.size())));  // the scan is quadratic: count it
    bool duplicate = false;
    for (const Value& s : seen) {
      if (equals(s, *key)) {
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    seen.push_back(std::move(*key));
    out.push_back(item);
  }
  HELIX_TRY(in.check_list(out.size() * 2));
  return Value::make_list(std::move(out));
}

Result<Value> reverse_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("reverse", args));
  if (value.is_string()) {
    const auto chars = py_chars(value.as_string());
    std::string out;
    out.reserve(value.as_string().size());
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
    HELIX_TRY(in.check_string(out.size()));
    return Value::string(std::move(out));
  }
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  std::reverse(items->begin(), items->end());
  HELIX_TRY(in.check_list(items->size()));
  return Value::make_list(std::move(*items));
}

template <bool kMax>
Result<Value> extreme_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound =
      bind_args(kMax ? "max" : "min", args, {{"case_sensitive", Value::boolean(false)}, {"attribute", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  if (items->empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key;
  for (size_t i = 0; i < items->size(); ++i) {
    auto key = sort_key(in, (*items)[i], (*bound)[1], truthy((*bound)[0]));
    if (!key) return key;
    if (i > 0) {
      auto c = compare(*key, best_key, kMax ? ">" : "<");
      if (!c) return Unexpected{c.error()};
      if (kMax ? *c <= 0 : *c >= 0) continue;
    }
    best = i;
    best_key = std::move(*key);
  }
  return (*items)[best];
}

Result<Value> sum_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("sum", args, {{"attribute", Value::none()}, {"start", Value::integer(0)}});
  if (!bound) return Unexpected{bound.error()};
  auto items = in.iterate(value);
  if (!items) return Unexpected{items.error()};
  Value total = (*bound)[1];
  for (const Value& item : *items) {
    Value term = item;
    if (!(*bound)[0].is_none()) {
      auto attr = attribute_of(in, item, (*bound)[0]);
      if (!attr) return attr;
      term = std::move(*attr);
    }
    auto next = binary_op(in, "+", total, term);
    if (!next) return next;
    total = std::move(*next);
  }
  return total;
}

}  // namespace

void add_sequence_filters(FilterTable& t) {
  t["attr"] = attr_filter;
  t["count"] = length_filter;
  t["dictsort"] = dictsort_filter;
  t["first"] = first_filter;
  t["items"] = items_filter;
  t["join"] = join_filter;
  t["last"] = last_filter;
  t["length"] = length_filter;
  t["list"] = list_filter;
  t["map"] = map_filter;
  t["max"] = extreme_filter<true>;
  t["min"] = extreme_filter<false>;
  t["reject"] = select_filter<false, false>;
  t["rejectattr"] = select_filter<false, true>;
  t["reverse"] = reverse_filter;
  t["select"] = select_filter<true, false>;
  t["selectattr"] = select_filter<true, true>;
  t["sort"] = sort_filter;
  t["sum"] = sum_filter;
  t["unique"] = unique_filter;
}

}  // namespace helix::jinja
