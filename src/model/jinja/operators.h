// Python's arithmetic and membership operators on template values.
#pragma once

#include <string_view>

#include "common/result.h"
#include "model/jinja/value.h"

namespace helix::jinja {

class Interpreter;

// op: + - * / // % **. Integers are 64-bit: overflow is an error (Python would grow them).
Result<Value> binary_op(Interpreter& in, std::string_view op, const Value& a, const Value& b);
Result<Value> negate(const Value& value);
Result<Value> unary_plus(const Value& value);
// `item in container`: substring of a string, element of a list, key of a dict; undefined holds nothing.
Result<bool> contains(const Value& container, const Value& item);

}  // namespace helix::jinja
