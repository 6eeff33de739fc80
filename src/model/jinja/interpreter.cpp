// Statements, scopes and the limits of a render. Expressions are in eval.cpp.
#include "model/jinja/interpreter.h"

#include <fmt/format.h>

#include "model/jinja/builtins.h"
#include "model/jinja/lexer.h"

namespace helix::jinja {

namespace {

// Marks an error that already names its line, so callers up the tree (a macro's caller) leave it.
constexpr std::string_view kLocatedParam = "\x01located";

}  // namespace

Result<std::string> Interpreter::render(const Body& body, const Context& context) {
  context_ = &context;
  frames_.assign(1, Frame{});
  floor_ = 0;
  std::string out;
  out_ = &out;
  auto flow = exec_body(body);
  out_ = nullptr;
  context_ = nullptr;
  frames_.clear();
  for (const Value& ns : namespaces_) ns.namespace_data().entries.clear();
  namespaces_.clear();
  if (!flow) {
    Error error = flow.error();
    if (error.param == kLocatedParam) error.param.clear();
    return Unexpected{std::move(error)};
  }
  return out;
}

Unexpected Interpreter::fail(int line, int column, std::string_view message) const {
  return Unexpected{Error{fmt::format("{}: {}", describe_location(line, column), message), std::string(kLocatedParam)}};
}

Unexpected Interpreter::locate(int line, int column, const Error& error) const {
  if (error.param == kLocatedParam || error.param == kRaisedErrorParam) return Unexpected{error};
  return fail(line, column, error.message);
}

Status Interpreter::charge(size_t bytes) {
  work_bytes_ += bytes;
  if (work_bytes_ > limits_.max_work_bytes) {
    return errorf("the template built more than {} bytes of values (work limit)", limits_.max_work_bytes);
  }
  return {};
}

Status Interpreter::check_string(size_t bytes) {
  if (bytes > limits_.max_output_bytes) {
    return errorf("a string of {} bytes is over the limit of {} bytes", bytes, limits_.max_output_bytes);
  }
  return charge(bytes);
}

Status Interpreter::check_list(size_t items) {
  if (items > limits_.max_work_bytes / sizeof(Value)) {
    return errorf("a list of {} items is over the work limit", items);
  }
  return charge(items * sizeof(Value));
}

Status Interpreter::step(int64_t count) {
  steps_ += count;
  if (steps_ > limits_.max_steps) {
    return errorf("the template ran more than {} steps (statements, loop iterations and calls)", limits_.max_steps);
  }
  return {};
}

Result<std::vector<Value>> Interpreter::iterate(const Value& value) {
  if (value.is_string()) {
    HELIX_TRY(check_list(value.as_string().size()));  // at most one item per byte
  } else if (value.is_list()) {
    HELIX_TRY(check_list(value.list().items.size()));
  } else if (value.is_dict() && !value.is_namespace()) {
    HELIX_TRY(check_list(value.dict().entries.size()));
  }
  return jinja::iterate(value);
}

Result<int64_t> Interpreter::length(const Value& value) {
  if (value.is_string()) HELIX_TRY(charge(value.as_string().size()));
  return jinja::length(value);
}

Result<std::string> Interpreter::str(const Value& value) {
  if (value.is_string()) return value.as_string();
  std::string out;
  append_str(out, value, limits_.max_output_bytes);
  HELIX_TRY(check_string(out.size()));
  return out;
}

Status Interpreter::write(std::string_view text) {
  if (out_->size() + text.size() > limits_.max_output_bytes) {
    return errorf("the output is over the limit of {} bytes", limits_.max_output_bytes);
  }
  out_->append(text);
  return {};
}

Value Interpreter::lookup(const std::string& name) const {
  for (size_t i = frames_.size(); i-- > floor_;) {
    const auto it = frames_[i].find(name);
    if (it != frames_[i].end()) return it->second;
  }
  if (floor_ > 0) {
    const auto it = frames_[0].find(name);
    if (it != frames_[0].end()) return it->second;
  }
  if (context_) {
    const auto it = context_->find(name);
    if (it != context_->end()) return it->second;
  }
  if (auto builtin = builtin_global(name)) return *builtin;
  return Value::undefined(fmt::format("'{}' is undefined", name));
}

Result<Interpreter::Flow> Interpreter::exec_body(const Body& body) {
  for (const auto& stmt : body) {
    auto flow = exec(*stmt);
    if (!flow) return flow;
    if (*flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

// Each nested statement, expression and macro call adds stack frames: the depth is bounded here so that
// no template can overflow the stack, whatever the parser's bounds allow in combination.
Result<Interpreter::Flow> Interpreter::exec(const Stmt& s) {
  if (eval_depth_ >= limits_.max_eval_depth) {
    return fail(s.line, s.column, fmt::format("evaluation nested deeper than {} levels", limits_.max_eval_depth));
  }
  ++eval_depth_;
  auto flow = exec_node(s);
  --eval_depth_;
  return flow;
}

Result<Interpreter::Flow> Interpreter::exec_node(const Stmt& s) {
  if (auto ok = step(); !ok) return locate(s.line, s.column, ok.error());
  switch (s.kind) {
    case StmtKind::kText:
      if (auto ok = write(s.text); !ok) return locate(s.line, s.column, ok.error());
      return Flow::kNormal;
    case StmtKind::kPrint: {
      auto value = eval(*s.expr);
      if (!value) return Unexpected{value.error()};
      auto text = str(*value);
      if (!text) return locate(s.line, s.column, text.error());
      if (auto ok = write(*text); !ok) return locate(s.line, s.column, ok.error());
      return Flow::kNormal;
    }
    case StmtKind::kIf: return exec_if(s);
    case StmtKind::kFor: return exec_for(s);
    case StmtKind::kSet:
    case StmtKind::kSetAttr:
    case StmtKind::kSetBlock:
      if (auto ok = exec_set(s); !ok) return Unexpected{ok.error()};
      return Flow::kNormal;
    case StmtKind::kMacro: {
      const Stmt* macro = &s;
      frames_.back()[s.name] =
          Value::function(s.name, [macro](Interpreter& in, CallArgs& args) { return in.call_macro(*macro, args); });
      return Flow::kNormal;
    }
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
    case StmtKind::kBody: return exec_body(s.bodies[0]);
  }
  return Flow::kNormal;
}

Result<Interpreter::Flow> Interpreter::exec_if(const Stmt& s) {
  for (size_t i = 0; i < s.conditions.size(); ++i) {
    auto test = eval(*s.conditions[i]);
    if (!test) return Unexpected{test.error()};
    if (truthy(*test)) return exec_body(s.bodies[i]);
  }
  if (s.bodies.size() > s.conditions.size()) return exec_body(s.bodies.back());
  return Flow::kNormal;
}

Status Interpreter::bind_targets(const std::vector<std::string>& targets, const Value& value, const Stmt& at) {
  if (targets.size() == 1) {
    frames_.back()[targets[0]] = value;
    return {};
  }
  auto items = iterate(value);
  if (!items) return locate(at.line, at.column, items.error());
  if (items->size() != targets.size()) {
    return fail(at.line, at.column,
                items->size() > targets.size()
                    ? fmt::format("too many values to unpack (expected {})", targets.size())
                    : fmt::format("not enough values to unpack (expected {}, got {})", targets.size(), items->size()));
  }
  for (size_t i = 0; i < targets.size(); ++i) frames_.back()[targets[i]] = (*items)[i];
  return {};
}

Result<Interpreter::Flow> Interpreter::exec_for(const Stmt& s) {
  auto iterable = eval(*s.expr);
  if (!iterable) return Unexpected{iterable.error()};
  auto all = iterate(*iterable);
  if (!all) return locate(s.expr->line, s.expr->column, all.error());
  std::vector<Value> items;
  if (s.condition) {
    // `for x in xs if cond` filters first: loop.index and loop.length count the kept items.
    for (auto& item : *all) {
      if (auto ok = step(); !ok) return locate(s.line, s.column, ok.error());
      frames_.emplace_back();
      auto bound = bind_targets(s.targets, item, s);
      auto keep = bound ? eval(*s.condition) : Result<Value>(Unexpected{bound.error()});
      frames_.pop_back();
      if (!keep) return Unexpected{keep.error()};
      if (truthy(*keep)) items.push_back(std::move(item));
    }
  } else {
    items = std::move(*all);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    if (auto ok = step(); !ok) return locate(s.line, s.column, ok.error());
    if (auto ok = charge(16 * sizeof(Value)); !ok) return locate(s.line, s.column, ok.error());
    std::vector<std::pair<Value, Value>> loop = {
        {Value::string("index"), Value::integer(i + 1)},
        {Value::string("index0"), Value::integer(i)},
        {Value::string("revindex"), Value::integer(n - i)},
        {Value::string("revindex0"), Value::integer(n - i - 1)},
        {Value::string("first"), Value::boolean(i == 0)},
        {Value::string("last"), Value::boolean(i == n - 1)},
        {Value::string("length"), Value::integer(n)},
        {Value::string("depth"), Value::integer(1)},  // only recursive loops (unsupported) go deeper
        {Value::string("depth0"), Value::integer(0)},
        {Value::string("cycle"),
         Value::function("cycle",
                         [i](Interpreter&, CallArgs& args) -> Result<Value> {
                           if (args.positional.empty()) return make_error("loop.cycle() needs at least one argument");
                           return args.positional[static_cast<size_t>(i) % args.positional.size()];
                         })},
    };
    if (i > 0) loop.emplace_back(Value::string("previtem"), items[static_cast<size_t>(i - 1)]);
    if (i + 1 < n) loop.emplace_back(Value::string("nextitem"), items[static_cast<size_t>(i + 1)]);
    frames_.emplace_back();
    frames_.back()["loop"] = Value::make_dict(std::move(loop));
    auto bound = bind_targets(s.targets, items[static_cast<size_t>(i)], s);
    auto flow = bound ? exec_body(s.bodies[0]) : Result<Flow>(Unexpected{bound.error()});
    frames_.pop_back();
    if (!flow) return flow;
    if (*flow == Flow::kBreak) break;
  }
  if (n == 0 && s.bodies.size() > 1) return exec_body(s.bodies[1]);
  return Flow::kNormal;
}

Status Interpreter::exec_set(const Stmt& s) {
  if (s.kind == StmtKind::kSetBlock) {
    auto text = capture(s.bodies[0]);
    if (!text) return Unexpected{text.error()};
    frames_.back()[s.targets[0]] = Value::string(std::move(*text));
    return {};
  }
  auto value = eval(*s.expr);
  if (!value) return Unexpected{value.error()};
  if (s.kind == StmtKind::kSet) return bind_targets(s.targets, *value, s);
  const Value target = lookup(s.targets[0]);
  if (!target.is_namespace()) {
    return fail(s.line, s.column,
                fmt::format("cannot assign attribute '{}' on '{}': it is not a namespace()", s.attr, s.targets[0]));
  }
  target.namespace_data().set(Value::string(s.attr), std::move(*value));
  return {};
}

Result<std::string> Interpreter::capture(const Body& body) {
  std::string buffer;
  std::string* saved = out_;
  out_ = &buffer;
  auto flow = exec_body(body);
  out_ = saved;
  if (!flow) return Unexpected{flow.error()};
  if (auto ok = charge(buffer.size()); !ok) return Unexpected{ok.error()};
  return buffer;
}

Result<Value> Interpreter::call_macro(const Stmt& macro, CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    return errorf("macro calls nested deeper than {} (recursion?)", limits_.max_call_depth);
  }
  if (args.positional.size() > macro.targets.size()) {
    return errorf("macro '{}' takes {} arguments, {} given", macro.name, macro.targets.size(), args.positional.size());
  }
  Frame params;
  for (size_t i = 0; i < args.positional.size(); ++i) params[macro.targets[i]] = args.positional[i];
  for (auto& [key, value] : args.keyword) {
    bool known = false;
    for (const auto& target : macro.targets) known = known || target == key;
    if (!known) return errorf("macro '{}' has no parameter '{}'", macro.name, key);
    if (params.count(key)) return errorf("macro '{}' got two values for '{}'", macro.name, key);
    params[key] = value;
  }
  const size_t saved_floor = floor_;
  floor_ = frames_.size();
  frames_.push_back(std::move(params));
  ++call_depth_;
  auto restore = [&] {
    frames_.resize(floor_);
    floor_ = saved_floor;
    --call_depth_;
  };
  // Defaults are evaluated at call time, inside the macro, where earlier parameters are visible.
  for (size_t i = 0; i < macro.targets.size(); ++i) {
    if (frames_.back().count(macro.targets[i])) continue;
    if (!macro.defaults[i]) {
      frames_.back()[macro.targets[i]] = Value::undefined(fmt::format("'{}' is undefined", macro.targets[i]));
      continue;
    }
    auto value = eval(*macro.defaults[i]);
    if (!value) {
      restore();
      return Unexpected{value.error()};
    }
    frames_.back()[macro.targets[i]] = std::move(*value);
  }
  auto text = capture(macro.bodies[0]);
  restore();
  if (!text) return Unexpected{text.error()};
  return Value::string(std::move(*text));
}

Result<Value> Interpreter::call(const Value& callee, CallArgs& args) {
  HELIX_TRY(step());
  if (callee.is_undefined()) return make_error(callee.undefined_hint());
  if (!callee.is_function()) return errorf("'{}' object is not callable", type_name(callee));
  return callee.function().call(*this, args);
}

Result<Value> Interpreter::apply_filter(std::string_view name, const Value& value, CallArgs& args) {
  HELIX_TRY(step());
  if (!has_filter(name)) return errorf("no filter named '{}'", name);
  return call_filter(*this, name, value, args);
}

Result<bool> Interpreter::apply_test(std::string_view name, const Value& value, CallArgs& args) {
  HELIX_TRY(step());
  if (!has_test(name)) return errorf("no test named '{}'", name);
  return call_test(*this, name, value, args);
}

}  // namespace helix::jinja
