// Values of the Jinja interpreter, with Python's semantics where templates can see them: truthiness,
// str() and repr() text, == between numbers of any kind, ordering, len(), iteration.
// Lists, tuples and dicts are shared and never changed after creation, except namespaces (the one
// mutable object Jinja lets a template assign attributes to), so copying a Value is cheap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace helix::jinja {

class Interpreter;
class Value;

enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

struct ListData {
  std::vector<Value> items;
  bool is_tuple = false;
};

// Insertion-ordered, like Python's dict. Templates hold few keys, so lookup is a linear scan.
struct DictData {
  std::vector<std::pair<Value, Value>> entries;
  bool is_namespace = false;

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  void set(Value key, Value value);
};

// Arguments of a call: positional first, then keyword (name=value).
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

using NativeFunction = std::function<Result<Value>(Interpreter&, CallArgs&)>;

struct Function {
  std::string name;
  NativeFunction call;
};

class Value {
 public:
  Value() = default;  // undefined
  // An undefined value remembers why it is undefined ("'x' is undefined"): the error when it is misused.
  static Value undefined(std::string hint);
  static Value none();
  static Value boolean(bool value);
  static Value integer(int64_t value);
  static Value number(double value);
  static Value string(std::string value);
  static Value make_list(std::vector<Value> items);
  static Value make_tuple(std::vector<Value> items);
  static Value make_dict(std::vector<std::pair<Value, Value>> entries = {});
  static Value make_namespace(std::vector<std::pair<Value, Value>> entries = {});
  static Value function(std::string name, NativeFunction call);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }  // lists and tuples
  bool is_dict() const { return kind_ == Kind::kDict; }  // dicts and namespaces
  bool is_namespace() const { return kind_ == Kind::kDict && dict().is_namespace; }
  bool is_tuple() const { return kind_ == Kind::kList && list().is_tuple; }
  bool is_function() const { return kind_ == Kind::kFunction; }
  // bool, int or float: Python's numbers (True + 1 == 2).
  bool is_number() const { return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_integral() const { return kind_ == Kind::kBool || kind_ == Kind::kInt; }

  bool as_bool() const { return scalar_.b; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (scalar_.b ? 1 : 0) : scalar_.i; }  // bool or int
  double as_float() const;                                                                   // any number
  const std::string& as_string() const { return *static_cast<const std::string*>(heap_.get()); }
  const std::string& undefined_hint() const;
  const ListData& list() const { return *static_cast<const ListData*>(heap_.get()); }
  const DictData& dict() const { return *static_cast<const DictData*>(heap_.get()); }
  DictData& namespace_data() const { return *static_cast<DictData*>(heap_.get()); }
  const Function& function() const { return *static_cast<const Function*>(heap_.get()); }
  const void* identity() const { return heap_.get(); }

 private:
  Kind kind_ = Kind::kUndefined;
  union {
    bool b;
    int64_t i;
    double f;
  } scalar_{.i = 0};
  std::shared_ptr<void> heap_;  // std::string, ListData, DictData or Function; the hint of an undefined
};

// Python's type name ('str', 'int', 'NoneType', 'list', 'dict', ...), for error messages.
std::string_view type_name(const Value& value);

// Python truthiness; undefined is false.
bool truthy(const Value& value);

// str(value) and repr(value) appended to `out`. Undefined prints nothing (Jinja's default Undefined).
// Containers nested deeper than kMaxValueDepth print "..." there, so a cycle through a namespace ends.
inline constexpr int kMaxValueDepth = 64;
// Appending stops soon after `out` passes `limit` bytes, so printing a huge list cannot exhaust memory.
void append_str(std::string& out, const Value& value, size_t limit = SIZE_MAX);
void append_repr(std::string& out, const Value& value, int depth = 0, size_t limit = SIZE_MAX);
std::string to_str(const Value& value);
std::string python_float_repr(double value);  // repr(float): "1.0", "0.1", "1e+16", "inf"

// Python ==: numbers compare by value across bool/int/float, list != tuple, dicts ignore order,
// undefined equals only undefined. Structures deeper than kMaxValueDepth compare unequal.
bool equals(const Value& a, const Value& b, int depth = 0);

// Python ordering (-1, 0, 1) for numbers, strings (by code point) and same-kind sequences; anything
// else is a TypeError naming both types and `op`.
Result<int> compare(const Value& a, const Value& b, std::string_view op, int depth = 0);

// Python len(): code points of a string, items of a list or dict; undefined has length 0.
Result<int64_t> length(const Value& value);

// What a for loop sees: list items, dict keys, one string per code point; undefined is empty.
Result<std::vector<Value>> iterate(const Value& value);

// Whether Python could use the value as a dict key (no lists or dicts inside).
bool hashable(const Value& value, int depth = 0);

}  // namespace helix::jinja
