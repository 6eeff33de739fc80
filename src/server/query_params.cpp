#include "server/query_params.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace helix::server {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string quote_for_message(std::string_view value) {
  constexpr size_t kMaxShown = 64;
  if (value.size() <= kMaxShown) return fmt::format("'{}'", value);
  return fmt::format("'{}...' ({} bytes)", value.substr(0, kMaxShown), value.size());
}

Result<int64_t> parse_int64(std::string_view text, const std::string& param) {
  // std::from_chars alone would accept "12abc" (stopping at 'a'); demand it consumes everything.
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  bool all_digits = !digits.empty();
  for (char c : digits) all_digits = all_digits && c >= '0' && c <= '9';
  if (!all_digits)
    return make_error(fmt::format("{}: must be an integer, got {}", param, quote_for_message(text)), param);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range)
    return make_error(fmt::format("{}: {} is out of range for a 64-bit integer", param, quote_for_message(text)),
                      param);
  if (ec != std::errc() || end != text.data() + text.size())
    return make_error(fmt::format("{}: must be an integer, got {}", param, quote_for_message(text)), param);
  return value;
}

Result<std::string> percent_decode(std::string_view text, const std::string& param) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return make_error(fmt::format("{}: bad percent-encoding in {}", param.empty() ? "query" : param,
                                      quote_for_message(text)),
                          param);
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view query_of_target(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  // A fragment never reaches a server from a browser, but a hand-written request may carry one.
  const size_t hash = query.find('#');
  return hash == std::string_view::npos ? query : query.substr(0, hash);
}

Result<QueryParams> QueryParams::parse(std::string_view query) {
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  QueryParams params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), {});
    if (!key) return Unexpected{key.error()};
    if (key->empty())
      return make_error(fmt::format("query: parameter with no name in {}", quote_for_message(pair)), "query");
    const std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (raw_value.find('=') != std::string_view::npos)
      return make_error(fmt::format("{}: unescaped '=' in value {}", *key, quote_for_message(raw_value)), *key);
    auto value = percent_decode(raw_value, *key);
    if (!value) return Unexpected{value.error()};
    params.pairs_.emplace_back(std::move(*key), std::move(*value));
  }
  return params;
}

Status QueryParams::check(std::initializer_list<std::string_view> known) const {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : pairs_) {
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == key;
    if (!is_known && std::find(unknown.begin(), unknown.end(), key) == unknown.end()) unknown.push_back(key);
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& u : unknown) names += (names.empty() ? "" : ", ") + quote_for_message(u);
    std::string allowed;
    for (std::string_view k : known) allowed += fmt::format("{}{}", allowed.empty() ? "" : ", ", k);
    return make_error(fmt::format("unknown query parameter{} {} (known: {})", unknown.size() > 1 ? "s" : "", names,
                                  allowed),
                      unknown.front());
  }
  for (size_t i = 0; i < pairs_.size(); ++i)
    for (size_t j = i + 1; j < pairs_.size(); ++j)
      if (pairs_[i].first == pairs_[j].first)
        return make_error(fmt::format("{}: given more than once", pairs_[i].first), pairs_[i].first);
  return {};
}

std::optional<std::string> QueryParams::get(std::string_view name) const {
  for (const auto& [key, value] : pairs_)
    if (key == name) return value;
  return std::nullopt;
}

Result<std::optional<int64_t>> QueryParams::get_int64(std::string_view name) const {
  const auto text = get(name);
  if (!text) return std::optional<int64_t>{};
  auto value = parse_int64(*text, std::string(name));
  if (!value) return Unexpected{value.error()};
  return std::optional<int64_t>{*value};
}

}  // namespace helix::server
