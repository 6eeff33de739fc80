// JSON text of a value, as Python's json.dumps writes it (what transformers' tojson filter calls).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model/jinja/builtins.h"
#include "model/utf8.h"

namespace helix::jinja {

namespace {

void append_escaped(std::string& out, const std::string& s, bool ensure_ascii) {
  out.push_back('"');
  for (size_t pos = 0; pos < s.size();) {
    const Utf8Unit unit = utf8_decode_at(s, pos);
    const uint32_t cp = unit.cp;
    char buf[16];
    if (!unit.valid) {
      if (ensure_ascii) {
        out += "\\ufffd";
      } else {
        out.push_back(s[pos]);
      }
    } else if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\b') {
      out += "\\b";
    } else if (cp == '\f') {
      out += "\\f";
    } else if (cp < 0x20 || (ensure_ascii && cp > 0x7E)) {
      if (cp > 0xFFFF) {
        const uint32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      }
      out += buf;
    } else {
      out.append(s, pos, unit.length);
    }
    pos += unit.length;
  }
  out.push_back('"');
}

std::string float_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  return python_float_repr(v);
}

class JsonWriter {
 public:
  JsonWriter(const JsonOptions& options, size_t max_bytes) : o_(options), max_bytes_(max_bytes) {}

  Status write(const Value& v, int depth) {
    if (out.size() > max_bytes_) return errorf("tojson output is over the limit of {} bytes", max_bytes_);
    if (depth > kMaxValueDepth) return make_error("tojson: value nested too deeply (or circular)");
    switch (v.kind()) {
      case Kind::kNone: out += "null"; return {};
      case Kind::kBool: out += v.as_bool() ? "true" : "false"; return {};
      case Kind::kInt: out += std::to_string(v.as_int()); return {};
      case Kind::kFloat: out += float_json(v.as_float()); return {};
      case Kind::kString: append_escaped(out, v.as_string(), o_.ensure_ascii); return {};
      case Kind::kList: {
        const auto& items = v.list().items;
        if (items.empty()) {
          out += "[]";
          return {};
        }
        out.push_back('[');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += o_.item_separator;
          newline(depth + 1);
          HELIX_TRY(write(items[i], depth + 1));
        }
        newline(depth);
        out.push_back(']');
        return {};
      }
      case Kind::kDict: {
        if (v.is_namespace()) break;
        std::vector<std::pair<std::string, const Value*>> entries;
        for (const auto& [k, value] : v.dict().entries) {
          auto key = key_text(k);
          if (!key) return Unexpected{key.error()};
          entries.emplace_back(std::move(*key), &value);
        }
        if (entries.empty()) {
          out += "{}";
          return {};
        }
        if (o_.sort_keys) {
          std::stable_sort(entries.begin(), entries.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        out.push_back('{');
        for (size_t i = 0; i < entries.size(); ++i) {
          if (i) out += o_.item_separator;
          newline(depth + 1);
          append_escaped(out, entries[i].first, o_.ensure_ascii);
          out += o_.key_separator;
          HELIX_TRY(write(*entries[i].second, depth + 1));
        }
        newline(depth);
        out.push_back('}');
        return {};
      }
      default: break;
    }
    return errorf("Object of type {} is not JSON serializable", type_name(v));
  }

  std::string out;

 private:
  void newline(int depth) {
    if (!o_.indent) return;
    out.push_back('\n');
    for (int i = 0; i < depth && out.size() <= max_bytes_; ++i) out += *o_.indent;
  }

  // json.dumps turns str, int, float, bool and None keys into strings; other keys are a TypeError.
  static Result<std::string> key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::kString: return k.as_string();
      case Kind::kNone: return std::string("null");
      case Kind::kBool: return std::string(k.as_bool() ? "true" : "false");
      case Kind::kInt: return std::to_string(k.as_int());
      case Kind::kFloat: return float_json(k.as_float());
      default: return errorf("keys must be str, int, float, bool or None, not {}", type_name(k));
    }
  }

  const JsonOptions& o_;
  size_t max_bytes_;
};

}  // namespace

Result<std::string> to_json(const Value& value, const JsonOptions& options, size_t max_bytes) {
  JsonWriter writer(options, max_bytes);
  HELIX_TRY(writer.write(value, 0));
  if (writer.out.size() > max_bytes) return errorf("tojson output is over the limit of {} bytes", max_bytes);
  return std::move(writer.out);
}

}  // namespace helix::jinja
