#include "model/jinja/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "model/utf8.h"

namespace helix::jinja {

const Value* DictData::find(const Value& key) const {
  for (const auto& [k, v] : entries) {
    if (equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* DictData::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.is_string() && k.as_string() == key) return &v;
  }
  return nullptr;
}

void DictData::set(Value key, Value value) {
  for (auto& [k, v] : entries) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

Value Value::undefined(std::string hint) {
  Value v;
  v.heap_ = std::make_shared<std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool value) {
  Value v;
  v.kind_ = Kind::kBool;
  v.scalar_.b = value;
  return v;
}

Value Value::integer(int64_t value) {
  Value v;
  v.kind_ = Kind::kInt;
  v.scalar_.i = value;
  return v;
}

Value Value::number(double value) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.scalar_.f = value;
  return v;
}

Value Value::string(std::string value) {
  Value v;
  v.kind_ = Kind::kString;
  v.heap_ = std::make_shared<std::string>(std::move(value));
  return v;
}

Value Value::make_list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.heap_ = std::make_shared<ListData>(ListData{std::move(items), false});
  return v;
}

Value Value::make_tuple(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.heap_ = std::make_shared<ListData>(ListData{std::move(items), true});
  return v;
}

Value Value::make_dict(std::vector<std::pair<Value, Value>> entries) {
  Value v;
  v.kind_ = Kind::kDict;
  auto data = std::make_shared<DictData>();
  for (auto& [key, value] : entries) data->set(std::move(key), std::move(value));
  v.heap_ = std::move(data);
  return v;
}

Value Value::make_namespace(std::vector<std::pair<Value, Value>> entries) {
  Value v = make_dict(std::move(entries));
  v.namespace_data().is_namespace = true;
  return v;
}

Value Value::function(std::string name, NativeFunction call) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.heap_ = std::make_shared<Function>(Function{std::move(name), std::move(call)});
  return v;
}

double Value::as_float() const {
  switch (kind_) {
    case Kind::kBool: return scalar_.b ? 1.0 : 0.0;
    case Kind::kInt: return static_cast<double>(scalar_.i);
    case Kind::kFloat: return scalar_.f;
    default: return 0.0;
  }
}

const std::string& Value::undefined_hint() const {
  static const std::string kNoHint = "value is undefined";
  if (kind_ != Kind::kUndefined || !heap_) return kNoHint;
  return *static_cast<const std::string*>(heap_.get());
}

std::string_view type_name(const Value& value) {
  switch (value.kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return value.is_tuple() ? "tuple" : "list";
    case Kind::kDict: return value.is_namespace() ? "Namespace" : "dict";
    case Kind::kFunction: return "function";
  }
  return "object";
}

bool truthy(const Value& value) {
  switch (value.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return value.as_bool();
    case Kind::kInt: return value.as_int() != 0;
    case Kind::kFloat: return value.as_float() != 0.0;
    case Kind::kString: return !value.as_string().empty();
    case Kind::kList: return !value.list().items.empty();
    case Kind::kDict: return value.is_namespace() || !value.dict().entries.empty();
    case Kind::kFunction: return true;
  }
  return false;
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // Shortest round-trip digits, then Python's layout: positional for exponents -4..15, else d.ddde+XX.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  if (ec != std::errc()) return "nan";
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exponent);
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out += digits;
    } else {
      const size_t int_digits = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out += digits;
        out.append(int_digits - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_digits);
        out += '.';
        out += digits.substr(int_digits);
      }
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) {
    out += '.';
    out += digits.substr(1);
  }
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
  out += exp_buf;
  return out;
}

namespace {

void append_string_repr(std::string& out, const std::string& s) {
  const char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  out.push_back(quote);
  for (size_t pos = 0; pos < s.size();) {
    const Utf8Unit unit = utf8_decode_at(s, pos);
    const uint32_t cp = unit.cp;
    if (!unit.valid) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", cp);
      out += hex;
    } else if (cp == '\\' || cp == static_cast<uint32_t>(quote)) {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", cp);
      out += hex;
    } else {
      out.append(s, pos, unit.length);
    }
    pos += unit.length;
  }
  out.push_back(quote);
}

}  // namespace

void append_repr(std::string& out, const Value& value, int depth, size_t limit) {
  switch (value.kind()) {
    case Kind::kUndefined: out += "Undefined"; return;
    case Kind::kString: append_string_repr(out, value.as_string()); return;
    case Kind::kList: {
      if (depth >= kMaxValueDepth) {
        out += "[...]";
        return;
      }
      const auto& items = value.list().items;
      out.push_back(value.is_tuple() ? '(' : '[');
      for (size_t i = 0; i < items.size() && out.size() <= limit; ++i) {
        if (i) out += ", ";
        append_repr(out, items[i], depth + 1, limit);
      }
      if (value.is_tuple() && items.size() == 1) out.push_back(',');
      out.push_back(value.is_tuple() ? ')' : ']');
      return;
    }
    case Kind::kDict: {
      if (depth >= kMaxValueDepth) {
        out += "{...}";
        return;
      }
      if (value.is_namespace()) out += "<Namespace ";
      out.push_back('{');
      bool first = true;
      for (const auto& [k, v] : value.dict().entries) {
        if (out.size() > limit) break;
        if (!first) out += ", ";
        first = false;
        append_repr(out, k, depth + 1, limit);
        out += ": ";
        append_repr(out, v, depth + 1, limit);
      }
      out.push_back('}');
      if (value.is_namespace()) out.push_back('>');
      return;
    }
    default: append_str(out, value, limit); return;
  }
}

void append_str(std::string& out, const Value& value, size_t limit) {
  switch (value.kind()) {
    case Kind::kUndefined: return;
    case Kind::kNone: out += "None"; return;
    case Kind::kBool: out += value.as_bool() ? "True" : "False"; return;
    case Kind::kInt: out += std::to_string(value.as_int()); return;
    case Kind::kFloat: out += python_float_repr(value.as_float()); return;
    case Kind::kString: out += value.as_string(); return;
    case Kind::kFunction: out += "<function " + value.function().name + ">"; return;
    case Kind::kList:
    case Kind::kDict: append_repr(out, value, 0, limit); return;
  }
}

std::string to_str(const Value& value) {
  if (value.is_string()) return value.as_string();
  std::string out;
  append_str(out, value);
  return out;
}

bool equals(const Value& a, const Value& b, int depth) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::kFloat || b.kind() == Kind::kFloat) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return a.as_string() == b.as_string();
    case Kind::kFunction: return a.identity() == b.identity();
    case Kind::kList: {
      if (a.is_tuple() != b.is_tuple() || depth >= kMaxValueDepth) return false;
      const auto& x = a.list().items;
      const auto& y = b.list().items;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!equals(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case Kind::kDict: {
      if (a.is_namespace() || b.is_namespace()) return a.identity() == b.identity();
      if (depth >= kMaxValueDepth) return false;
      const auto& x = a.dict().entries;
      if (x.size() != b.dict().entries.size()) return false;
      for (const auto& [k, v] : x) {
        const Value* other = b.dict().find(k);
        if (!other || !equals(v, *other, depth + 1)) return false;
      }
      return true;
    }
    default: return false;
  }
}

Result<int> compare(const Value& a, const Value& b, std::string_view op, int depth) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Kind::kFloat || b.kind() == Kind::kFloat) {
      const double x = a.as_float();
      const double y = b.as_float();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.as_string().compare(b.as_string());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple() && depth < kMaxValueDepth) {
    const auto& x = a.list().items;
    const auto& y = b.list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i], depth + 1)) continue;
      return compare(x[i], y[i], op, depth + 1);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  if (a.is_undefined()) return make_error(a.undefined_hint());
  if (b.is_undefined()) return make_error(b.undefined_hint());
  return errorf("'{}' not supported between instances of '{}' and '{}'", op, type_name(a), type_name(b));
}

Result<int64_t> length(const Value& value) {
  switch (value.kind()) {
    case Kind::kUndefined: return int64_t{0};
    case Kind::kString: {
      const std::string& s = value.as_string();
      int64_t n = 0;
      for (size_t pos = 0; pos < s.size(); pos += utf8_decode_at(s, pos).length) ++n;
      return n;
    }
    case Kind::kList: return static_cast<int64_t>(value.list().items.size());
    case Kind::kDict: return static_cast<int64_t>(value.dict().entries.size());
    default: return errorf("object of type '{}' has no len()", type_name(value));
  }
}

Result<std::vector<Value>> iterate(const Value& value) {
  switch (value.kind()) {
    case Kind::kUndefined: return std::vector<Value>{};
    case Kind::kList: return value.list().items;
    case Kind::kDict: {
      if (value.is_namespace()) return errorf("'Namespace' object is not iterable");
      std::vector<Value> keys;
      keys.reserve(value.dict().entries.size());
      for (const auto& entry : value.dict().entries) keys.push_back(entry.first);
      return keys;
    }
    case Kind::kString: {
      const std::string& s = value.as_string();
      std::vector<Value> chars;
      for (size_t pos = 0; pos < s.size();) {
        const size_t n = utf8_decode_at(s, pos).length;
        chars.push_back(Value::string(s.substr(pos, n)));
        pos += n;
      }
      return chars;
    }
    default: return errorf("'{}' object is not iterable", type_name(value));
  }
}

bool hashable(const Value& value, int depth) {
  switch (value.kind()) {
    case Kind::kList:
      if (!value.is_tuple() || depth >= kMaxValueDepth) return false;
      for (const auto& item : value.list().items) {
        if (!hashable(item, depth + 1)) return false;
      }
      return true;
    case Kind::kDict: return value.is_namespace();
    default: return true;
  }
}

}  // namespace helix::jinja
