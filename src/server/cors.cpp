#include "server/cors.h"

#include <algorithm>

namespace helix::server {

namespace {

constexpr const char* kDefaultAllowHeaders = "Content-Type, Authorization";
constexpr const char* kMaxAgeSeconds = "7200";  // Chromium's cap; longer values are cut to it

std::string without_trailing_slash(std::string origin) {
  while (origin.size() > 1 && origin.back() == '/') origin.pop_back();
  return origin;
}

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> origins) {
  if (origins.empty()) origins = default_origins();
  for (auto& o : origins) {
    o = without_trailing_slash(std::move(o));
    if (o == "*") any_origin_ = true;
  }
  origins_ = std::move(origins);
}

std::vector<std::string> CorsPolicy::default_origins() {
  return {"http://localhost:5173", "http://127.0.0.1:5173"};
}

std::optional<std::string> CorsPolicy::allowed_origin(const std::string& origin, const std::string& host) const {
  if (origin.empty()) return std::nullopt;
  if (any_origin_) return std::string("*");
  if (std::find(origins_.begin(), origins_.end(), origin) != origins_.end()) return origin;
  // Same origin: the page was served by this server (the built web UI).
  if (!host.empty() && (origin == "http://" + host || origin == "https://" + host)) return origin;
  return std::nullopt;
}

void CorsPolicy::apply(const httplib::Request& req, httplib::Response& res) const {
  // Responses differ by Origin, so caches must key on it even when this one carries no grant.
  res.set_header("Vary", "Origin");
  const auto allowed = allowed_origin(req.get_header_value("Origin"), req.get_header_value("Host"));
  if (allowed) res.set_header("Access-Control-Allow-Origin", *allowed);
}

void CorsPolicy::answer_preflight(const httplib::Request& req, httplib::Response& res,
                                  const std::string& methods) const {
  res.status = 204;
  res.set_header("Allow", methods);
  res.set_header("Access-Control-Allow-Methods", methods);
  // Clients such as the OpenAI SDK send their own x-* headers; grant what the browser asks for.
  const std::string requested = req.get_header_value("Access-Control-Request-Headers");
  res.set_header("Access-Control-Allow-Headers", requested.empty() ? kDefaultAllowHeaders : requested);
  res.set_header("Access-Control-Max-Age", kMaxAgeSeconds);
}

}  // namespace helix::server
