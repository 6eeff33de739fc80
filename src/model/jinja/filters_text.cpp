// Filters on single values: text, numbers and conversions.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "model/jinja/builtins.h"
#include "model/jinja/filter_table.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/py_string.h"
#include "model/utf8.h"

namespace helix::jinja {

namespace {

Status no_args(std::string_view name, const CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return errorf("{}() takes no arguments", name);
  return {};
}

template <std::string (*kMap)(std::string_view)>
Result<Value> map_text(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("filter", args));
  auto text = in.str(value);
  if (!text) return Unexpected{text.error()};
  HELIX_TRY(in.check_string(text->size() * 2));
  return Value::string(kMap(*text));
}

// Jinja's title filter: a word starts after '-', whitespace, '(', '{', '[' or '<'; its first character
// is upper-cased and the rest lower-cased.
std::string jinja_title(std::string_view s) {
  std::string out;
  bool word_start = true;
  for (std::string_view c : py_chars(s)) {
    const Utf8Unit unit = utf8_decode_at(c, 0);
    const bool separator = unit.valid && (is_py_space(unit.cp) || unit.cp == '-' || unit.cp == '(' || unit.cp == '{' ||
                                          unit.cp == '[' || unit.cp == '<');
    if (separator || !unit.valid) {
      out += c;
      word_start = separator;
      continue;
    }
    utf8_append(out, word_start ? py_upper_cp(unit.cp) : py_lower_cp(unit.cp));
    word_start = false;
  }
  return out;
}

Result<Value> abs_filter(Interpreter&, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("abs", args));
  if (value.is_integral()) {
    if (value.as_int() == INT64_MIN) return make_error("integer overflow in abs()");
    return Value::integer(value.as_int() < 0 ? -value.as_int() : value.as_int());
  }
  if (value.kind() == Kind::kFloat) return Value::number(std::fabs(value.as_float()));
  if (value.is_undefined()) return make_error(value.undefined_hint());
  return errorf("bad operand type for abs(): '{}'", type_name(value));
}

Result<Value> default_filter(Interpreter&, const Value& value, CallArgs& args) {
  auto bound = bind_args("default", args, {{"default_value", Value::string("")}, {"boolean", Value::boolean(false)}});
  if (!bound) return Unexpected{bound.error()};
  if (value.is_undefined() || (truthy((*bound)[1]) && !truthy(value))) return (*bound)[0];
  return value;
}

Result<Value> escape_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("escape", args));
  auto text = in.str(value);
  if (!text) return Unexpected{text.error()};
  std::string out;
  for (char c : *text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  HELIX_TRY(in.check_string(out.size()));
  return Value::string(std::move(out));
}

// Python's float(str): surrounding whitespace, a sign, digits with single underscores, inf/nan.
std::optional<double> parse_python_float(std::string_view s) {
  s = py_strip(s, true, true);
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (i == 0 || i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i - 1])) ||
          !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        return std::nullopt;
      }
      continue;
    }
    clean.push_back(s[i]);
  }
  std::string_view body = clean;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body.empty() || body[0] == '+' || body[0] == '-') return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ptr != body.data() + body.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    const size_t e = body.find_first_of("eE");
    value = (e != std::string_view::npos && body[e + 1] == '-') ? 0.0 : HUGE_VAL;
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return negative ? -value : value;
}

// Python's int(str, base): whitespace, sign, digits with single underscores; base 0 reads a prefix.
std::optional<int64_t> parse_python_int(std::string_view s, int64_t base) {
  s = py_strip(s, true, true);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto has_prefix = [&](char p) { return s.size() > 2 && s[0] == '0' && (s[1] | 0x20) == p; };
  if (base == 0) {
    base = has_prefix('x') ? 16 : has_prefix('o') ? 8 : has_prefix('b') ? 2 : 10;
    if (base == 10 && s.size() > 1 && s[0] == '0' && s.find_first_not_of("0_") != std::string_view::npos) {
      return std::nullopt;  // Python refuses leading zeros here
    }
  }
  if ((base == 16 && has_prefix('x')) || (base == 8 && has_prefix('o')) || (base == 2 && has_prefix('b'))) {
    s.remove_prefix(2);
    if (!s.empty() && s[0] == '_') s.remove_prefix(1);
  }
  if (base < 2 || base > 36 || s.empty()) return std::nullopt;
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && s[i - 1] != '_') continue;
    digits.push_back(s[i]);
  }
  if (negative) digits.insert(digits.begin(), '-');
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, static_cast<int>(base));
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

Result<Value> float_filter(Interpreter&, const Value& value, CallArgs& args) {
  auto bound = bind_args("float", args, {{"default", Value::number(0.0)}});
  if (!bound) return Unexpected{bound.error()};
  if (value.is_undefined()) return make_error(value.undefined_hint());
  if (value.is_number()) return Value::number(value.as_float());
  if (value.is_string()) {
    if (auto parsed = parse_python_float(value.as_string())) return Value::number(*parsed);
  }
  return (*bound)[0];
}

Result<Value> int_from_float(double f, const Value& fallback) {
  if (std::isnan(f)) return fallback;
  if (std::isinf(f) || std::fabs(f) >= 9.2e18) return make_error("cannot convert float to a 64-bit integer");
  return Value::integer(static_cast<int64_t>(std::trunc(f)));
}

Result<Value> int_filter(Interpreter&, const Value& value, CallArgs& args) {
  auto bound = bind_args("int", args, {{"default", Value::integer(0)}, {"base", Value::integer(10)}});
  if (!bound) return Unexpected{bound.error()};
  const Value& fallback = (*bound)[0];
  if (value.is_undefined()) return make_error(value.undefined_hint());
  if (value.is_integral()) return Value::integer(value.as_int());
  if (value.kind() == Kind::kFloat) return int_from_float(value.as_float(), fallback);
  if (value.is_string()) {
    const int64_t base = (*bound)[1].is_integral() ? (*bound)[1].as_int() : 10;
    if (auto parsed = parse_python_int(value.as_string(), base)) return Value::integer(*parsed);
    // Like Jinja: "42.23"|int is 42.
    if (auto parsed = parse_python_float(value.as_string())) return int_from_float(*parsed, fallback);
  }
  return fallback;
}

Result<Value> indent_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound =
      bind_args("indent", args,
                {{"width", Value::integer(4)}, {"first", Value::boolean(false)}, {"blank", Value::boolean(false)}});
  if (!bound) return Unexpected{bound.error()};
  const Value& width = (*bound)[0];
  std::string indention;
  if (width.is_string()) {
    indention = width.as_string();
  } else if (width.is_integral()) {
    const int64_t n = std::max<int64_t>(0, width.as_int());
    HELIX_TRY(in.check_string(static_cast<size_t>(std::min<int64_t>(n, INT32_MAX))));
    indention.assign(static_cast<size_t>(n), ' ');
  } else {
    return errorf("indent() width must be an int or a string, not {}", type_name(width));
  }
  // Jinja appends "\n" to the value itself, so anything but a string is a type error.
  if (value.is_undefined()) return make_error(value.undefined_hint());
  if (!value.is_string()) return errorf("indent() needs a string, not '{}'", type_name(value));
  const std::string s = value.as_string() + "\n";  // Jinja's quirk for splitlines
  const auto lines = py_splitlines(s);
  if (!lines.empty() && indention.size() > 0 &&
      lines.size() > (in.limits().max_output_bytes - s.size()) / indention.size() + 1) {
    return errorf("indent() would build a string over the limit of {} bytes", in.limits().max_output_bytes);
  }
  std::string out;
  const bool blank = truthy((*bound)[2]);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += indention;
    }
    out += lines[i];
  }
  if (truthy((*bound)[1])) out.insert(0, indention);
  HELIX_TRY(in.check_string(out.size()));
  return Value::string(std::move(out));
}

Result<Value> replace_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("replace", args, {{"old", std::nullopt}, {"new", std::nullopt}, {"count", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto s = in.str(value);
  auto old = in.str((*bound)[0]);
  auto replacement = in.str((*bound)[1]);
  if (!s || !old || !replacement) return make_error("replace(): arguments could not be converted to strings");
  int64_t count = -1;
  if ((*bound)[2].is_integral()) {
    count = (*bound)[2].as_int();
  } else if (!(*bound)[2].is_none()) {
    return errorf("replace() count must be an integer, not {}", type_name((*bound)[2]));
  }
  // Count first, so a replacement that would grow past the limit is refused before it is built.
  uint64_t occurrences = 0;
  if (old->empty()) {
    occurrences = py_chars(*s).size() + 1;
  } else {
    for (size_t at = s->find(*old); at != std::string::npos; at = s->find(*old, at + old->size())) ++occurrences;
  }
  if (count >= 0) occurrences = std::min<uint64_t>(occurrences, static_cast<uint64_t>(count));
  if (replacement->size() > old->size()) {
    const uint64_t growth = replacement->size() - old->size();
    if (occurrences > 0 && growth > (in.limits().max_output_bytes) / occurrences) {
      return errorf("replace() would build a string over the limit of {} bytes", in.limits().max_output_bytes);
    }
    HELIX_TRY(in.check_string(s->size() + occurrences * growth));
  }
  return Value::string(py_replace(*s, *old, *replacement, count));
}

Result<Value> round_filter(Interpreter&, const Value& value, CallArgs& args) {
  auto bound = bind_args("round", args, {{"precision", Value::integer(0)}, {"method", Value::string("common")}});
  if (!bound) return Unexpected{bound.error()};
  if (!(*bound)[0].is_integral()) return make_error("round() precision must be an integer");
  const int64_t precision = std::clamp<int64_t>((*bound)[0].as_int(), -308, 308);
  const std::string method = (*bound)[1].is_string() ? (*bound)[1].as_string() : "";
  if (!value.is_number()) {
    if (value.is_undefined()) return make_error(value.undefined_hint());
    return errorf("round() needs a number, not '{}'", type_name(value));
  }
  const double x = value.as_float();
  if (method == "common") {
    if (value.is_integral() && precision >= 0) return Value::integer(value.as_int());
    if (!std::isfinite(x)) return Value::number(x);
    if (precision >= 0) {
      // printf rounds the exact binary value half-to-even, as Python's round(x, n) does.
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)), x);
      double r = 0;
      std::from_chars(buf, buf + std::strlen(buf), r);
      return Value::number(r);
    }
    const double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value::number(std::nearbyint(x / scale) * scale);
  }
  if (method != "ceil" && method != "floor") return make_error("round() method must be 'common', 'ceil' or 'floor'");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = x * scale;
  return Value::number((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Result<Value> string_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("string", args));
  if (value.is_string()) return value;
  auto text = in.str(value);
  if (!text) return Unexpected{text.error()};
  return Value::string(std::move(*text));
}

Result<Value> title_filter(Interpreter& in, const Value& value, CallArgs& args) {
  HELIX_TRY(no_args("title", args));
  auto text = in.str(value);
  if (!text) return Unexpected{text.error()};
  HELIX_TRY(in.check_string(text->size() * 2));
  return Value::string(jinja_title(*text));
}

Result<Value> trim_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("trim", args, {{"chars", Value::none()}});
  if (!bound) return Unexpected{bound.error()};
  auto text = in.str(value);
  if (!text) return Unexpected{text.error()};
  std::optional<std::string_view> chars;
  if ((*bound)[0].is_string()) {
    chars = (*bound)[0].as_string();
  } else if (!(*bound)[0].is_none()) {
    return errorf("trim() chars must be a string, not {}", type_name((*bound)[0]));
  }
  return Value::string(std::string(py_strip(*text, true, true, chars)));
}

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
Result<Value> tojson_filter(Interpreter& in, const Value& value, CallArgs& args) {
  auto bound = bind_args("tojson", args,
                         {{"ensure_ascii", Value::boolean(false)},
                          {"indent", Value::none()},
                          {"separators", Value::none()},
                          {"sort_keys", Value::boolean(false)}});
  if (!bound) return Unexpected{bound.error()};
  JsonOptions options;
  options.ensure_ascii = truthy((*bound)[0]);
  const Value& indent = (*bound)[1];
  if (indent.is_integral()) {
    options.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(indent.as_int(), 0, 64)), ' ');
  } else if (indent.is_string()) {
    options.indent = indent.as_string();
  } else if (!indent.is_none()) {
    return errorf("tojson() indent must be an int or a string, not {}", type_name(indent));
  }
  if (options.indent) options.item_separator = ",";
  const Value& separators = (*bound)[2];
  if (!separators.is_none()) {
    if (!separators.is_list() || separators.list().items.size() != 2 || !separators.list().items[0].is_string() ||
        !separators.list().items[1].is_string()) {
      return make_error("tojson() separators must be a pair of strings");
    }
    options.item_separator = separators.list().items[0].as_string();
    options.key_separator = separators.list().items[1].as_string();
  }
  options.sort_keys = truthy((*bound)[3]);
  auto json = to_json(value, options, in.limits().max_output_bytes);
  if (!json) return Unexpected{json.error()};
  HELIX_TRY(in.check_string(json->size()));
  return Value::string(std::move(*json));
}

}  // namespace

void add_text_filters(FilterTable& t) {
  t["abs"] = abs_filter;
  t["capitalize"] = map_text<py_capitalize>;
  t["default"] = default_filter;
  t["d"] = default_filter;
  t["escape"] = escape_filter;
  t["e"] = escape_filter;
  t["float"] = float_filter;
  t["indent"] = indent_filter;
  t["int"] = int_filter;
  t["lower"] = map_text<py_lower>;
  t["upper"] = map_text<py_upper>;
  t["replace"] = replace_filter;
  t["round"] = round_filter;
  t["safe"] = string_filter;  // no autoescaping here, so marking text safe changes nothing
  t["string"] = string_filter;
  t["title"] = title_filter;
  t["trim"] = trim_filter;
  t["tojson"] = tojson_filter;
}

}  // namespace helix::jinja
