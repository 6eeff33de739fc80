// The syntax tree the parser builds and the interpreter walks. One node type for expressions and one for
// statements, each with a kind; the fields a kind uses are listed beside it.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/jinja/value.h"

namespace helix::jinja {

enum class ExprKind : uint8_t {
  kLiteral,   // literal
  kName,      // name
  kList,      // args: items
  kTuple,     // args: items
  kDict,      // args: key, value, key, value, ...
  kGetAttr,   // args[0]: object; name: attribute
  kGetItem,   // args[0]: object; args[1]: key (a kSlice for obj[a:b:c])
  kSlice,     // args: start, stop, step (null when absent)
  kCall,      // args[0]: callee, args[1..]: positional; kwargs
  kFilter,    // args[0]: value, args[1..]: positional; kwargs; name: filter
  kTest,      // args[0]: value, args[1..]: positional; kwargs; name: test
  kNeg,       // args[0]
  kPos,       // args[0]
  kNot,       // args[0]
  kBinary,    // args[0] op args[1]; op: + - * / // % **
  kConcat,    // args: joined with ~
  kCompare,   // args[0], then compare_ops[i] against args[i + 1] (chained: a < b < c)
  kAnd,       // args[0] and args[1]
  kOr,        // args[0] or args[1]
  kCondExpr,  // args[1] if args[0] else args[2] (args[2] null without else)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  int line = 0;
  int column = 0;
  int depth = 1;  // nodes on the longest path down from here (bounded by the parser)
  Value literal;
  std::string name;
  std::string op;                        // kBinary
  std::vector<std::string> compare_ops;  // kCompare: == != < <= > >= in notin
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

enum class StmtKind : uint8_t {
  kText,      // text
  kPrint,     // expr
  kIf,        // conditions[i] guards bodies[i]; bodies.back() is the else body when there is
              // one more body than conditions
  kFor,       // targets in expr [if condition]: bodies[0]; else: bodies[1]
  kSet,       // targets = expr (several targets unpack a sequence)
  kSetAttr,   // targets[0].attr = expr (namespace attribute)
  kSetBlock,  // targets[0] = rendered bodies[0]
  kMacro,     // name(targets[i] = defaults[i]...): bodies[0]
  kBreak,
  kContinue,
  kBody,  // bodies[0] rendered as is ({% generation %} of Hugging Face templates)
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  int column = 0;
  std::string text;
  std::string name;
  std::string attr;
  std::vector<std::string> targets;
  ExprPtr expr;
  ExprPtr condition;                // kFor filter
  std::vector<ExprPtr> conditions;  // kIf
  std::vector<ExprPtr> defaults;    // kMacro: one per target; null when it has none
  std::vector<Body> bodies;
};

}  // namespace helix::jinja
