#include "model/jinja/operators.h"

#include <cmath>

#include "model/jinja/interpreter.h"

namespace helix::jinja {

namespace {

Unexpected unsupported(std::string_view op, const Value& a, const Value& b) {
  if (a.is_undefined()) return make_error(a.undefined_hint());
  if (b.is_undefined()) return make_error(b.undefined_hint());
  return errorf("unsupported operand type(s) for {}: '{}' and '{}'", op, type_name(a), type_name(b));
}

Unexpected overflow(std::string_view op) { return errorf("integer overflow in '{}'", op); }

// Python's int // and % (floor division, remainder with the divisor's sign).
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t floor_mod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
double float_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Result<Value> int_pow(int64_t base, int64_t exponent) {
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return overflow("**");
    }
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) return overflow("**");
  }
  return Value::integer(result);
}

Result<Value> repeat(Interpreter& in, const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && static_cast<uint64_t>(times) > in.limits().max_output_bytes / s.size()) {
      return errorf("'*' would build a string over the limit of {} bytes", in.limits().max_output_bytes);
    }
    HELIX_TRY(in.check_string(s.size() * static_cast<size_t>(times)));
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += s;
    return Value::string(std::move(out));
  }
  const auto& items = seq.list().items;
  if (!items.empty() && static_cast<uint64_t>(times) > in.limits().max_work_bytes / items.size()) {
    return errorf("'*' would build a list over the work limit");
  }
  HELIX_TRY(in.check_list(items.size() * static_cast<size_t>(times)));
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(times));
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::make_tuple(std::move(out)) : Value::make_list(std::move(out));
}

}  // namespace

Result<Value> binary_op(Interpreter& in, std::string_view op, const Value& a, const Value& b) {
  const bool numbers = a.is_number() && b.is_number();
  const bool ints = a.is_integral() && b.is_integral();
  if (op == "+") {
    if (ints) {
      int64_t r;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return overflow(op);
      return Value::integer(r);
    }
    if (numbers) return Value::number(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) {
      HELIX_TRY(in.check_string(a.as_string().size() + b.as_string().size()));
      return Value::string(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      HELIX_TRY(in.check_list(a.list().items.size() + b.list().items.size()));
      std::vector<Value> items = a.list().items;
      items.insert(items.end(), b.list().items.begin(), b.list().items.end());
      return a.is_tuple() ? Value::make_tuple(std::move(items)) : Value::make_list(std::move(items));
    }
    return unsupported(op, a, b);
  }
  if (op == "-") {
    if (ints) {
      int64_t r;
      if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return overflow(op);
      return Value::integer(r);
    }
    if (numbers) return Value::number(a.as_float() - b.as_float());
    return unsupported(op, a, b);
  }
  if (op == "*") {
    if (ints) {
      int64_t r;
      if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return overflow(op);
      return Value::integer(r);
    }
    if (numbers) return Value::number(a.as_float() * b.as_float());
    if ((a.is_string() || a.is_list()) && b.is_integral()) return repeat(in, a, b.as_int());
    if ((b.is_string() || b.is_list()) && a.is_integral()) return repeat(in, b, a.as_int());
    return unsupported(op, a, b);
  }
  if (op == "/") {
    if (!numbers) return unsupported(op, a, b);
    if (b.as_float() == 0.0) return make_error("division by zero");
    return Value::number(a.as_float() / b.as_float());
  }
  if (op == "//") {
    if (!numbers) return unsupported(op, a, b);
    if (ints) {
      if (b.as_int() == 0) return make_error("integer division or modulo by zero");
      if (a.as_int() == INT64_MIN && b.as_int() == -1) return overflow(op);
      return Value::integer(floor_div(a.as_int(), b.as_int()));
    }
    if (b.as_float() == 0.0) return make_error("float floor division by zero");
    return Value::number(std::floor(a.as_float() / b.as_float()));
  }
  if (op == "%") {
    if (a.is_string()) return make_error("string formatting with '%' is not supported; use ~ or format filters");
    if (!numbers) return unsupported(op, a, b);
    if (ints) {
      if (b.as_int() == 0) return make_error("integer division or modulo by zero");
      if (b.as_int() == -1) return Value::integer(0);
      return Value::integer(floor_mod(a.as_int(), b.as_int()));
    }
    if (b.as_float() == 0.0) return make_error("float modulo by zero");
    return Value::number(float_mod(a.as_float(), b.as_float()));
  }
  if (op == "**") {
    if (!numbers) return unsupported(op, a, b);
    if (ints && b.as_int() >= 0) return int_pow(a.as_int(), b.as_int());
    if (a.as_float() == 0.0 && b.as_float() < 0) return make_error("0.0 cannot be raised to a negative power");
    return Value::number(std::pow(a.as_float(), b.as_float()));
  }
  return errorf("unknown operator '{}'", op);
}

Result<Value> negate(const Value& value) {
  if (value.is_integral()) {
    if (value.as_int() == INT64_MIN) return overflow("-");
    return Value::integer(-value.as_int());
  }
  if (value.kind() == Kind::kFloat) return Value::number(-value.as_float());
  if (value.is_undefined()) return make_error(value.undefined_hint());
  return errorf("bad operand type for unary -: '{}'", type_name(value));
}

Result<Value> unary_plus(const Value& value) {
  if (value.is_integral()) return Value::integer(value.as_int());
  if (value.kind() == Kind::kFloat) return value;
  if (value.is_undefined()) return make_error(value.undefined_hint());
  return errorf("bad operand type for unary +: '{}'", type_name(value));
}

Result<bool> contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined: return false;
    case Kind::kString:
      if (!item.is_string()) return errorf("'in <string>' requires string as left operand, not {}", type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::kList:
      for (const auto& element : container.list().items) {
        if (equals(element, item)) return true;
      }
      return false;
    case Kind::kDict:
      if (container.is_namespace()) return errorf("argument of type 'Namespace' is not iterable");
      if (!hashable(item)) return errorf("unhashable type: '{}'", type_name(item));
      return container.dict().find(item) != nullptr;
    default: return errorf("argument of type '{}' is not iterable", type_name(container));
  }
}

}  // namespace helix::jinja
