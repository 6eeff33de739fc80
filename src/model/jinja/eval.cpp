// Expression evaluation: Python semantics for operators, Jinja's for names, attributes and undefined.
#include <algorithm>

#include <fmt/format.h>

#include "model/jinja/builtins.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/operators.h"
#include "model/jinja/py_string.h"

namespace helix::jinja {

namespace {

// Jinja's wording: "'dict object' has no attribute 'x'", "list object has no element 3".
std::string object_repr(const Value& object) {
  if (object.is_none()) return "None";
  return fmt::format("{} object", type_name(object));
}

Value missing_attribute(const Value& object, std::string_view name) {
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_repr(object), name));
}

Value missing_element(const Value& object, const Value& key) {
  std::string repr;
  append_repr(repr, key);
  return Value::undefined(fmt::format("{} has no element {}", object_repr(object), repr));
}

Result<std::optional<int64_t>> slice_bound(const Value& v) {
  if (v.is_none() || v.is_undefined()) return std::optional<int64_t>{};
  if (!v.is_integral()) return errorf("slice indices must be integers or None, not {}", type_name(v));
  return std::optional<int64_t>{v.as_int()};
}

}  // namespace

Value Interpreter::get_attr(const Value& object, std::string_view name) {
  if (object.is_dict()) {
    if (!object.is_namespace()) {
      if (auto method = bound_method(object, name)) return *method;
    }
    if (const Value* v = object.dict().find(name)) return *v;
    return missing_attribute(object, name);
  }
  if (auto method = bound_method(object, name)) return *method;
  return missing_attribute(object, name);
}

Result<Value> Interpreter::get_item(const Value& object, const Value& key) {
  switch (object.kind()) {
    case Kind::kList:
    case Kind::kString: {
      if (key.is_string()) return get_attr(object, key.as_string());
      if (!key.is_integral()) return missing_element(object, key);
      int64_t index = key.as_int();
      if (object.is_list()) {
        const auto& items = object.list().items;
        const auto n = static_cast<int64_t>(items.size());
        if (index < 0) index += n;
        if (index < 0 || index >= n) return missing_element(object, key);
        return items[static_cast<size_t>(index)];
      }
      HELIX_TRY(charge(object.as_string().size()));  // indexing counts code points from the start
      const auto chars = py_chars(object.as_string());
      const auto n = static_cast<int64_t>(chars.size());
      if (index < 0) index += n;
      if (index < 0 || index >= n) return missing_element(object, key);
      return Value::string(std::string(chars[static_cast<size_t>(index)]));
    }
    case Kind::kDict: {
      if (hashable(key)) {
        if (const Value* v = object.dict().find(key)) return *v;
      }
      if (key.is_string()) return get_attr(object, key.as_string());
      return missing_element(object, key);
    }
    default:
      if (key.is_string()) return get_attr(object, key.as_string());
      return missing_element(object, key);
  }
}

Status Interpreter::eval_args(const Expr& e, CallArgs& args) {
  for (size_t i = 1; i < e.args.size(); ++i) {
    auto v = eval(*e.args[i]);
    if (!v) return Unexpected{v.error()};
    args.positional.push_back(std::move(*v));
  }
  for (const auto& [key, expr] : e.kwargs) {
    auto v = eval(*expr);
    if (!v) return Unexpected{v.error()};
    args.keyword.emplace_back(key, std::move(*v));
  }
  return {};
}

Result<Value> Interpreter::eval(const Expr& e) {
  if (eval_depth_ >= limits_.max_eval_depth) {
    return fail(e.line, e.column, fmt::format("evaluation nested deeper than {} levels", limits_.max_eval_depth));
  }
  ++eval_depth_;
  auto value = eval_node(e);
  --eval_depth_;
  return value;
}

Result<Value> Interpreter::eval_node(const Expr& e) {
  auto here = [&](const Error& error) { return locate(e.line, e.column, error); };
  switch (e.kind) {
    case ExprKind::kLiteral: return e.literal;
    case ExprKind::kName: return lookup(e.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      if (auto ok = check_list(e.args.size()); !ok) return here(ok.error());
      std::vector<Value> items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) {
        auto v = eval(*a);
        if (!v) return v;
        items.push_back(std::move(*v));
      }
      return e.kind == ExprKind::kList ? Value::make_list(std::move(items)) : Value::make_tuple(std::move(items));
    }
    case ExprKind::kDict: {
      if (auto ok = check_list(e.args.size()); !ok) return here(ok.error());
      std::vector<std::pair<Value, Value>> entries;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        auto key = eval(*e.args[i]);
        if (!key) return key;
        if (!hashable(*key)) return here(Error{fmt::format("unhashable type: '{}'", type_name(*key)), {}});
        auto value = eval(*e.args[i + 1]);
        if (!value) return value;
        entries.emplace_back(std::move(*key), std::move(*value));
      }
      return Value::make_dict(std::move(entries));
    }
    case ExprKind::kGetAttr: {
      auto object = eval(*e.args[0]);
      if (!object) return object;
      if (object->is_undefined()) return here(Error{object->undefined_hint(), {}});
      return get_attr(*object, e.name);
    }
    case ExprKind::kGetItem: return eval_subscript(e);
    case ExprKind::kSlice: return here(Error{"a slice is only valid inside [ ]", {}});
    case ExprKind::kCall: return eval_call(e);
    case ExprKind::kFilter: {
      auto value = eval(*e.args[0]);
      if (!value) return value;
      CallArgs args;
      if (auto ok = eval_args(e, args); !ok) return Unexpected{ok.error()};
      auto result = apply_filter(e.name, *value, args);
      if (!result) return here(result.error());
      return result;
    }
    case ExprKind::kTest: {
      auto value = eval(*e.args[0]);
      if (!value) return value;
      CallArgs args;
      if (auto ok = eval_args(e, args); !ok) return Unexpected{ok.error()};
      auto result = apply_test(e.name, *value, args);
      if (!result) return here(result.error());
      return Value::boolean(*result);
    }
    case ExprKind::kNeg:
    case ExprKind::kPos: {
      auto value = eval(*e.args[0]);
      if (!value) return value;
      auto result = e.kind == ExprKind::kNeg ? negate(*value) : unary_plus(*value);
      if (!result) return here(result.error());
      return result;
    }
    case ExprKind::kNot: {
      auto value = eval(*e.args[0]);
      if (!value) return value;
      return Value::boolean(!truthy(*value));
    }
    case ExprKind::kBinary: {
      auto a = eval(*e.args[0]);
      if (!a) return a;
      auto b = eval(*e.args[1]);
      if (!b) return b;
      auto result = binary_op(*this, e.op, *a, *b);
      if (!result) return here(result.error());
      return result;
    }
    case ExprKind::kConcat: return eval_concat(e);
    case ExprKind::kCompare: return eval_compare(e);
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      auto a = eval(*e.args[0]);
      if (!a) return a;
      const bool a_true = truthy(*a);
      if (e.kind == ExprKind::kAnd ? !a_true : a_true) return a;
      return eval(*e.args[1]);
    }
    case ExprKind::kCondExpr: {
      auto test = eval(*e.args[0]);
      if (!test) return test;
      if (truthy(*test)) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.", e.line));
    }
  }
  return here(Error{"unknown expression", {}});
}

Result<Value> Interpreter::eval_subscript(const Expr& e) {
  auto here = [&](const Error& error) { return locate(e.line, e.column, error); };
  auto object = eval(*e.args[0]);
  if (!object) return object;
  if (object->is_undefined()) return here(Error{object->undefined_hint(), {}});
  const Expr& key_expr = *e.args[1];
  if (key_expr.kind != ExprKind::kSlice) {
    auto key = eval(key_expr);
    if (!key) return key;
    auto result = get_item(*object, *key);
    if (!result) return here(result.error());
    return result;
  }
  std::optional<int64_t> bounds[3];
  for (int i = 0; i < 3; ++i) {
    if (!key_expr.args[static_cast<size_t>(i)]) continue;
    auto v = eval(*key_expr.args[static_cast<size_t>(i)]);
    if (!v) return v;
    auto bound = slice_bound(*v);
    if (!bound) return here(bound.error());
    bounds[i] = *bound;
  }
  const int64_t step_size = bounds[2].value_or(1);
  if (step_size == 0) return here(Error{"slice step cannot be zero", {}});
  if (object->is_list()) {
    const auto& items = object->list().items;
    std::vector<Value> out;
    for (int64_t i : py_slice_indices(static_cast<int64_t>(items.size()), bounds[0], bounds[1], step_size)) {
      out.push_back(items[static_cast<size_t>(i)]);
    }
    if (auto ok = check_list(out.size()); !ok) return here(ok.error());
    return object->is_tuple() ? Value::make_tuple(std::move(out)) : Value::make_list(std::move(out));
  }
  if (object->is_string()) {
    if (auto ok = charge(object->as_string().size()); !ok) return here(ok.error());
    const auto chars = py_chars(object->as_string());
    std::string out;
    for (int64_t i : py_slice_indices(static_cast<int64_t>(chars.size()), bounds[0], bounds[1], step_size)) {
      out += chars[static_cast<size_t>(i)];
    }
    if (auto ok = check_string(out.size()); !ok) return here(ok.error());
    return Value::string(std::move(out));
  }
  // Jinja indexes with a slice directly, without its getitem fallbacks, so Python's errors show.
  if (object->is_dict() && !object->is_namespace()) return here(Error{"unhashable type: 'slice'", {}});
  return here(Error{fmt::format("'{}' object is not subscriptable", type_name(*object)), {}});
}

Result<Value> Interpreter::eval_call(const Expr& e) {
  auto callee = eval(*e.args[0]);
  if (!callee) return callee;
  CallArgs args;
  if (auto ok = eval_args(e, args); !ok) return Unexpected{ok.error()};
  auto result = call(*callee, args);
  if (!result) return locate(e.line, e.column, result.error());
  return result;
}

Result<Value> Interpreter::eval_concat(const Expr& e) {
  std::string out;
  for (const auto& a : e.args) {
    auto v = eval(*a);
    if (!v) return v;
    append_str(out, *v, limits_.max_output_bytes);
    if (out.size() > limits_.max_output_bytes) break;
  }
  if (auto ok = check_string(out.size()); !ok) return locate(e.line, e.column, ok.error());
  return Value::string(std::move(out));
}

Result<Value> Interpreter::eval_compare(const Expr& e) {
  auto left = eval(*e.args[0]);
  if (!left) return left;
  for (size_t i = 0; i < e.compare_ops.size(); ++i) {
    auto right = eval(*e.args[i + 1]);
    if (!right) return right;
    const std::string& op = e.compare_ops[i];
    // Comparing or searching strings costs their length: count it, so loops over long strings stay bounded.
    if (left->is_string() && right->is_string()) {
      const size_t a = left->as_string().size();
      const size_t b = right->as_string().size();
      if (auto ok = charge(op == "in" || op == "notin" ? b : std::min(a, b)); !ok) {
        return locate(e.line, e.column, ok.error());
      }
    }
    bool holds = false;
    if (op == "==" || op == "!=") {
      holds = equals(*left, *right) == (op == "==");
    } else if (op == "in" || op == "notin") {
      auto found = contains(*right, *left);
      if (!found) return locate(e.line, e.column, found.error());
      holds = *found == (op == "in");
    } else {
      auto order = compare(*left, *right, op);
      if (!order) return locate(e.line, e.column, order.error());
      holds = op == "<" ? *order < 0 : op == "<=" ? *order <= 0 : op == ">" ? *order > 0 : *order >= 0;
    }
    if (!holds) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

}  // namespace helix::jinja
