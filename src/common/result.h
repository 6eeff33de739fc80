// helix::Result<T>: a value or an Error, shaped like C++23's std::expected so it can be swapped for it.
// The library returns errors instead of throwing; only the edges (main, HTTP handlers) turn them into
// exit codes or 4xx bodies.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace helix {

// What went wrong, in words that name the culprit ("blk.3.attn_k.weight: expected ...").
// `param` names the input at fault (query parameter, flag or JSON field) when there is one.
struct Error {
  std::string message;
  std::string param;
};

// Marks an Error as the failure branch of a Result (like std::unexpected).
struct Unexpected {
  Error error;
};

inline Unexpected make_error(std::string message, std::string param = {}) {
  return Unexpected{Error{std::move(message), std::move(param)}};
}

template <typename... Args>
Unexpected errorf(fmt::format_string<Args...> format, Args&&... args) {
  return Unexpected{Error{fmt::format(format, std::forward<Args>(args)...), {}}};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected failure) : state_(std::in_place_index<1>, std::move(failure.error)) {}  // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { check_has_value(); return std::get<0>(state_); }
  const T& value() const& { check_has_value(); return std::get<0>(state_); }
  T&& value() && { check_has_value(); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    if (has_value()) die("Result::error() called on a value");
    return std::get<1>(state_);
  }

 private:
  void check_has_value() const {
    if (!has_value()) die(("Result::value() called on an error: " + std::get<1>(state_).message).c_str());
  }
  [[noreturn]] static void die(const char* what) {
    std::fprintf(stderr, "helix: bug: %s\n", what);
    std::abort();
  }
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected failure) : error_(std::move(failure.error)), failed_(true) {}  // NOLINT
  bool has_value() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

// Prefixes an error message with context ("stories260K.gguf: ...").
inline Unexpected with_context(const std::string& context, const Error& error) {
  return Unexpected{Error{context + ": " + error.message, error.param}};
}

}  // namespace helix

// Propagates an error from an expression returning Result<...>.
#define HELIX_TRY(expr)                                               \
  do {                                                                \
    auto&& helix_try_result_ = (expr);                                \
    if (!helix_try_result_) return ::helix::Unexpected{helix_try_result_.error()}; \
  } while (0)

// Asserts an invariant in every build type; a broken one is a bug, printed with its state.
#define HELIX_CHECK(cond, ...)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "helix: invariant broken at %s:%d: %s: %s\n", __FILE__, __LINE__, #cond, \
                   ::fmt::format(__VA_ARGS__).c_str());                                \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
