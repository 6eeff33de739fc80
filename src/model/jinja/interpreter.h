// Walks a parsed template and writes its output. Scoping follows Jinja: {% set %} writes to the
// innermost scope; every for-loop iteration and macro call has its own scope, so assignments inside a
// loop are gone after it (namespaces are how templates carry state out of loops); {% if %} has none.
// Every render is bounded (RenderLimits): output size, the bytes of strings and lists it builds, the
// statements, loop iterations and calls it runs, and macro call depth; past a bound it fails.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "model/jinja/ast.h"
#include "model/jinja/value.h"

namespace helix::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{16} << 20;  // the result, and any one string built on the way
  size_t max_work_bytes = size_t{256} << 20;   // all strings and list slots built during one render
  int64_t max_steps = 5'000'000;               // statements run, loop iterations and calls, together
  int max_call_depth = 16;                     // nested macro calls
  int max_eval_depth = 400;                    // nested statements and expressions being evaluated
};

// Error.param of the error raise_exception(message) produces; its message is `message` verbatim.
inline constexpr std::string_view kRaisedErrorParam = "raise_exception";

using Context = std::unordered_map<std::string, Value>;

class Interpreter {
 public:
  explicit Interpreter(const RenderLimits& limits) : limits_(limits) {}

  // Errors read "line L, column C: message", except those of raise_exception.
  Result<std::string> render(const Body& body, const Context& context);

  // ---- services for the built-in filters, tests and functions -------------------------------
  const RenderLimits& limits() const { return limits_; }
  // Accounts for `bytes` of new strings or list slots against max_work_bytes.
  Status charge(size_t bytes);
  // A string of `bytes` may be built (max_output_bytes), and is charged.
  Status check_string(size_t bytes);
  // A list of `items` may be built; charged per slot.
  Status check_list(size_t items);
  Status step(int64_t count = 1);
  // Namespaces are the only mutable values, so the only way to build a reference cycle
  // (`ns.self = ns`); they never outlive the render, which empties them at the end to break cycles.
  void adopt_namespace(const Value& ns) { namespaces_.push_back(ns); }
  Result<Value> call(const Value& callee, CallArgs& args);
  Result<Value> apply_filter(std::string_view name, const Value& value, CallArgs& args);
  Result<bool> apply_test(std::string_view name, const Value& value, CallArgs& args);
  // jinja::iterate and jinja::length, charged for the work (a string's characters become list items).
  Result<std::vector<Value>> iterate(const Value& value);
  Result<int64_t> length(const Value& value);
  // str(value), refusing results over max_output_bytes.
  Result<std::string> str(const Value& value);
  // obj.name and obj[key] with Jinja's lookup order (attribute first for `.`, item first for `[]`).
  Value get_attr(const Value& object, std::string_view name);
  Result<Value> get_item(const Value& object, const Value& key);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using Frame = std::unordered_map<std::string, Value>;

  Result<Flow> exec_body(const Body& body);
  Result<Flow> exec(const Stmt& stmt);
  Result<Flow> exec_node(const Stmt& stmt);
  Result<Flow> exec_for(const Stmt& stmt);
  Result<Flow> exec_if(const Stmt& stmt);
  Status exec_set(const Stmt& stmt);
  Result<std::string> capture(const Body& body);
  Result<Value> call_macro(const Stmt& macro, CallArgs& args);
  Status bind_targets(const std::vector<std::string>& targets, const Value& value, const Stmt& at);
  Status write(std::string_view text);

  Result<Value> eval(const Expr& e);
  Result<Value> eval_node(const Expr& e);
  Result<Value> eval_call(const Expr& e);
  Result<Value> eval_subscript(const Expr& e);
  Result<Value> eval_compare(const Expr& e);
  Result<Value> eval_concat(const Expr& e);
  Status eval_args(const Expr& e, CallArgs& args);

  Value lookup(const std::string& name) const;
  Unexpected fail(int line, int column, std::string_view message) const;
  Unexpected locate(int line, int column, const Error& error) const;

  RenderLimits limits_;
  const Context* context_ = nullptr;
  std::vector<Frame> frames_;
  size_t floor_ = 0;  // frames below this (but frame 0, the template's top level) are a caller's: hidden
  std::string* out_ = nullptr;
  size_t work_bytes_ = 0;
  int64_t steps_ = 0;
  int call_depth_ = 0;
  std::vector<Value> namespaces_;
  int eval_depth_ = 0;
};

}  // namespace helix::jinja
