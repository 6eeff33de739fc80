// Cross-origin access for browsers: which page origins may call the API (the Vite dev server on :5173 by
// default, plus the server's own origin), the headers that say so, and preflight answers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

namespace helix::server {

class CorsPolicy {
 public:
  // `origins` as given by --cors-origin ("http://host:port", or "*" for any); empty means the defaults.
  explicit CorsPolicy(std::vector<std::string> origins = {});

  // http://localhost:5173 and http://127.0.0.1:5173: the web UI's dev server.
  static std::vector<std::string> default_origins();

  // The Access-Control-Allow-Origin value for a request from `origin` to the server reached as `host`
  // (the Host header), or nullopt when that origin may not read responses.
  std::optional<std::string> allowed_origin(const std::string& origin, const std::string& host) const;

  // Adds Access-Control-Allow-Origin (when allowed) and Vary: Origin. Goes on every response.
  void apply(const httplib::Request& req, httplib::Response& res) const;

  // Answers a preflight OPTIONS with 204: the methods the path takes, the headers the browser asked for
  // and how long to cache it. Access-Control-Allow-Origin only when the origin is allowed.
  void answer_preflight(const httplib::Request& req, httplib::Response& res, const std::string& methods) const;

  const std::vector<std::string>& origins() const { return origins_; }

 private:
  std::vector<std::string> origins_;
  bool any_origin_ = false;
};

}  // namespace helix::server
