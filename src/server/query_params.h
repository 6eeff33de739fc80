// Strict query-string parsing for the API. Anything ambiguous is an error naming the parameter (HTTP 400):
// integers must be plain decimal ("12abc", "1e3", " 5", "" and overflow are refused), a parameter may
// appear once, and a route lists the parameters it knows so a misspelt one is reported, not ignored.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace helix::server {

// Optional '-' then decimal digits, within int64. The error names `param`.
Result<int64_t> parse_int64(std::string_view text, const std::string& param);

// Percent-decoding ('+' is a space, as in HTML forms). A '%' not followed by two hex digits is an error.
Result<std::string> percent_decode(std::string_view text, const std::string& param);

// Shortens a client-supplied value for an error message, so a huge value does not make a huge body.
std::string quote_for_message(std::string_view value);

class QueryParams {
 public:
  // Parses the query part of a request target ("a=1&b=x"; leading '?' optional). Empty pairs
  // ("a=1&&b=2", a trailing '&') are skipped; "a" alone means a="".
  static Result<QueryParams> parse(std::string_view query);

  // Refuses parameters not in `known` (all named in one message) and any given more than once.
  Status check(std::initializer_list<std::string_view> known) const;

  // The value of a parameter given once, or nullopt when absent.
  std::optional<std::string> get(std::string_view name) const;
  // The same, parsed as an integer.
  Result<std::optional<int64_t>> get_int64(std::string_view name) const;

  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;  // in request order, repeats kept
};

// The query part of a request target ("/p?a=1" -> "a=1"; none -> "").
std::string_view query_of_target(std::string_view target);

}  // namespace helix::server
