// Jinja tests (`x is defined`, `n is divisibleby 3`, `select('equalto', 'user')`).
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <unordered_map>

#include "model/jinja/builtins.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/operators.h"
#include "model/jinja/py_string.h"

namespace helix::jinja {

namespace {

using TestFn = Result<bool> (*)(Interpreter&, const Value&, CallArgs&);

template <bool (*kPredicate)(const Value&)>
Result<bool> unary(Interpreter&, const Value& value, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("this test takes no arguments");
  return kPredicate(value);
}

bool is_defined(const Value& v) { return !v.is_undefined(); }
bool is_undefined(const Value& v) { return v.is_undefined(); }
bool is_none(const Value& v) { return v.is_none(); }
bool is_boolean(const Value& v) { return v.kind() == Kind::kBool; }
bool is_true(const Value& v) { return v.kind() == Kind::kBool && v.as_bool(); }
bool is_false(const Value& v) { return v.kind() == Kind::kBool && !v.as_bool(); }
bool is_integer(const Value& v) { return v.kind() == Kind::kInt; }
bool is_float(const Value& v) { return v.kind() == Kind::kFloat; }
bool is_number(const Value& v) { return v.is_number(); }
bool is_string(const Value& v) { return v.is_string(); }
bool is_mapping(const Value& v) { return v.is_dict() && !v.is_namespace(); }
// Jinja's undefined defines __call__ (to raise), so Python calls it callable.
bool is_callable(const Value& v) { return v.is_function() || v.is_undefined(); }
bool is_escaped(const Value&) { return false; }
bool is_iterable(const Value& v) {
  return v.is_undefined() || v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace());
}
// Jinja's undefined has __len__ and __getitem__, so it passes as a sequence.
bool is_sequence(const Value& v) {
  return v.is_undefined() || v.is_string() || v.is_list() || (v.is_dict() && !v.is_namespace());
}
bool is_lower(const Value& v) { return py_islower(to_str(v)); }
bool is_upper(const Value& v) { return py_isupper(to_str(v)); }

Result<Value> one_arg(std::string_view name, CallArgs& args) {
  auto bound = bind_args(name, args, {{"other", std::nullopt}});
  if (!bound) return Unexpected{bound.error()};
  return (*bound)[0];
}

template <bool kOdd>
Result<bool> parity(Interpreter&, const Value& value, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("this test takes no arguments");
  if (value.is_integral()) return (value.as_int() % 2 != 0) == kOdd;
  if (value.kind() == Kind::kFloat) return (std::fmod(std::fabs(value.as_float()), 2.0) == 1.0) == kOdd;
  if (value.is_undefined()) return make_error(value.undefined_hint());
  return errorf("'{}' is not a number", type_name(value));
}

Result<bool> divisibleby(Interpreter& in, const Value& value, CallArgs& args) {
  auto other = one_arg("divisibleby", args);
  if (!other) return Unexpected{other.error()};
  auto rest = binary_op(in, "%", value, *other);
  if (!rest) return Unexpected{rest.error()};
  return rest->as_float() == 0.0;
}

// Comparison tests; `op` is also the operator named in errors.
template <int kOp>
Result<bool> comparison(Interpreter&, const Value& value, CallArgs& args) {
  auto other = one_arg("comparison", args);
  if (!other) return Unexpected{other.error()};
  if (kOp == 0) return equals(value, *other);
  if (kOp == 1) return !equals(value, *other);
  static constexpr std::string_view kNames[] = {"==", "!=", "<", "<=", ">", ">="};
  auto c = compare(value, *other, kNames[kOp]);
  if (!c) return Unexpected{c.error()};
  switch (kOp) {
    case 2: return *c < 0;
    case 3: return *c <= 0;
    case 4: return *c > 0;
    default: return *c >= 0;
  }
}

Result<bool> sameas(Interpreter&, const Value& value, CallArgs& args) {
  auto other = one_arg("sameas", args);
  if (!other) return Unexpected{other.error()};
  if (value.kind() != other->kind()) return false;
  switch (value.kind()) {
    case Kind::kNone:
    case Kind::kUndefined: return true;
    case Kind::kBool: return value.as_bool() == other->as_bool();
    case Kind::kInt: return value.as_int() == other->as_int();  // small ints are shared in Python too
    case Kind::kFloat: return false;
    default: return value.identity() == other->identity();
  }
}

Result<bool> in_test(Interpreter&, const Value& value, CallArgs& args) {
  auto seq = one_arg("in", args);
  if (!seq) return Unexpected{seq.error()};
  return contains(*seq, value);
}

Result<bool> filter_test(Interpreter&, const Value& value, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("this test takes no arguments");
  return value.is_string() && has_filter(value.as_string());
}

Result<bool> test_test(Interpreter&, const Value& value, CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) return make_error("this test takes no arguments");
  return value.is_string() && has_test(value.as_string());
}

const std::unordered_map<std::string_view, TestFn>& tests() {
  static const std::unordered_map<std::string_view, TestFn> table = {
      {"boolean", unary<is_boolean>},
      {"callable", unary<is_callable>},
      {"defined", unary<is_defined>},
      {"divisibleby", divisibleby},
      {"eq", comparison<0>},
      {"equalto", comparison<0>},
      {"==", comparison<0>},
      {"escaped", unary<is_escaped>},
      {"even", parity<false>},
      {"false", unary<is_false>},
      {"filter", filter_test},
      {"float", unary<is_float>},
      {"ge", comparison<5>},
      {">=", comparison<5>},
      {"gt", comparison<4>},
      {"greaterthan", comparison<4>},
      {">", comparison<4>},
      {"in", in_test},
      {"integer", unary<is_integer>},
      {"iterable", unary<is_iterable>},
      {"le", comparison<3>},
      {"<=", comparison<3>},
      {"lower", unary<is_lower>},
      {"lt", comparison<2>},
      {"lessthan", comparison<2>},
      {"<", comparison<2>},
      {"mapping", unary<is_mapping>},
      {"ne", comparison<1>},
      {"!=", comparison<1>},
      {"none", unary<is_none>},
      {"number", unary<is_number>},
      {"odd", parity<true>},
      {"sameas", sameas},
      {"sequence", unary<is_sequence>},
      {"string", unary<is_string>},
      {"test", test_test},
      {"true", unary<is_true>},
      {"undefined", unary<is_undefined>},
      {"upper", unary<is_upper>},
  };
  return table;
}

}  // namespace

bool has_test(std::string_view name) { return tests().count(name) > 0; }

Result<bool> call_test(Interpreter& in, std::string_view name, const Value& value, CallArgs& args) {
  const auto it = tests().find(name);
  if (it == tests().end()) return errorf("no test named '{}'", name);
  return it->second(in, value, args);
}

}  // namespace helix::jinja
