// HttpServer: the HTTP front of Helix. Owns a cpp-httplib server and adds what every route shares:
// JSON errors in OpenAI's shape (404 unknown API route, 405 wrong method, 500 on a throwing handler), CORS,
// one structured log line per request, the Swagger UI at /docs and the web UI at / (client-side routes
// fall back to index.html).
//
// Routes come from outside: add_compare_routes() and friends (server/routes.h) for the foundation, and
// later the serving engine's /v1/*, /kv/* and /metrics, whose handlers capture the engine they talk to.
// All routes are added before bind()/run(); handlers run on the server's worker threads, concurrently.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include "common/result.h"
#include "server/cors.h"
#include "server/static_files.h"
#include "server/swagger_docs.h"

namespace helix::server {

enum class HttpMethod { Get, Post, Put, Patch, Delete };
std::string_view method_name(HttpMethod method);  // "GET", ...

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8000;                        // 0: any free port (see HttpServer::port())
  std::vector<std::string> cors_origins;  // empty: CorsPolicy::default_origins(); "*" allows any origin
  std::string web_dir = HELIX_WEB_DIST_DIR;
  std::string swagger_dir = HELIX_SWAGGER_DIR;
  size_t max_body_bytes = size_t{32} << 20;  // larger request bodies get 413
  // Connections served at once: each open connection (a stream, a keep-alive client) holds a worker thread for
  // its whole life, so this bounds concurrent streaming clients. cpp-httplib's default is max(8, cores - 1).
  size_t worker_threads = 128;
};

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers an API route. `pattern` is a cpp-httplib pattern: a regex matched against the whole decoded
  // path, captures in req.matches ("/v1/models/(.+)"). The first path segment ("v1") becomes an API
  // namespace: other paths under it answer 404 JSON instead of the web UI ("v1", "kv" and "metrics" are
  // namespaces from the start). Must precede bind().
  void add_route(HttpMethod method, const std::string& pattern, Handler handler);

  // Binds host:port (port 0: any free port). The error names the address and why, e.g.
  // "cannot listen on 0.0.0.0:8000: address already in use".
  Status bind();
  bool is_bound() const { return port_ > 0; }
  int port() const { return port_; }   // the bound port, 0 before bind()
  std::string url() const;             // "http://HOST:PORT"

  // Serves until stop(), binding first if needed. Returns once in-flight requests have finished.
  Status run();
  // Stops accepting connections; run() returns after requests in flight complete. Callable from any thread
  // (a signal-handling thread included) and before run() starts; not async-signal-safe.
  void stop();
  bool is_running() const { return server_.is_running(); }

  const HttpServerOptions& options() const { return options_; }
  const CorsPolicy& cors() const { return cors_; }

 private:
  struct Route {
    HttpMethod method;
    std::string pattern;
    std::regex regex;
  };

  void install_hooks();
  void install_page_routes();  // /docs and the web UI fallback: last, after every API route
  // The methods of the API routes whose pattern matches `path` ("GET, HEAD, OPTIONS"); empty if none.
  std::vector<HttpMethod> methods_for(const std::string& path) const;
  bool in_api_namespace(const std::string& path) const;
  std::string allow_header(const std::string& path) const;
  httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res);
  httplib::Server::HandlerResponse fill_error_body(const httplib::Request& req, httplib::Response& res);

  HttpServerOptions options_;
  CorsPolicy cors_;
  WebUi web_ui_;
  SwaggerDocs docs_;
  httplib::Server server_;
  std::vector<Route> routes_;
  std::set<std::string> api_namespaces_;  // first path segments of API routes
  int port_ = 0;
  int listen_fd_ = -1;
  bool page_routes_installed_ = false;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> entering_run_{false};
};

}  // namespace helix::server
