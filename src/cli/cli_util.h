// Small helpers shared by the subcommands.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "common/result.h"

namespace helix::cli {

// Maps an API parameter name to its flag ("sequence_length" -> "--sequence-length").
inline std::string flag_for_param(std::string param) {
  for (char& c : param)
    if (c == '_') c = '-';
  return "--" + param;
}

// Prints an error as one line on stderr and exits 1 (the only way commands fail).
[[noreturn]] inline void fail(const Error& error) {
  std::string message = error.message;
  // Library messages name the API parameter; on the command line, name the flag instead.
  if (!error.param.empty() && message.rfind(error.param + ":", 0) == 0)
    message = flag_for_param(error.param) + message.substr(error.param.size());
  fmt::print(stderr, "helix: error: {}\n", message);
  std::exit(1);
}

template <typename T>
T unwrap(Result<T> result) {
  if (!result) fail(result.error());
  return std::move(result).value();
}

}  // namespace helix::cli
