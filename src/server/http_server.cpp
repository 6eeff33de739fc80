#include "server/http_server.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "server/api_error.h"
#include "server/request_log.h"

namespace helix::server {

namespace {

using Clock = std::chrono::steady_clock;
using HandlerResponse = httplib::Server::HandlerResponse;

// A connection is served start to end by one worker thread, so the pre-routing hook and the logger of
// the same request run on the same thread. Unset when a request failed to parse before routing.
thread_local std::optional<Clock::time_point> t_request_start;

std::string first_segment(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(path.substr(0, path.find('/')));
}

// A pattern's first segment names a namespace only when it is plain text ("v1", "openapi.json").
bool is_literal(std::string_view text) { return text.find_first_of("()[]{}*+?^$|\\") == std::string_view::npos; }

// cpp-httplib reports only failure; errno still holds bind()'s reason unless the host did not resolve.
std::string bind_failure_reason(const std::string& host, int err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int gai = getaddrinfo(host.c_str(), nullptr, &hints, &found); gai != 0)
    return fmt::format("cannot resolve host: {}", gai_strerror(gai));
  freeaddrinfo(found);
  switch (err) {
    case EADDRINUSE: return "address already in use (is another server running on this port?)";
    case EACCES: return "permission denied (ports below 1024 need privileges)";
    case EADDRNOTAVAIL: return "address not available on this machine";
    case 0: return "cannot resolve or bind that address";
    default: return std::strerror(err);
  }
}

std::string default_error_message(const httplib::Request& req, int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return fmt::format("no route for {} {}", req.method, req.path);
    case 413: return "request body too large";
    case 414: return "request target too long";
    case 416: return "range not satisfiable";
    default: return fmt::format("HTTP error {}", status);
  }
}

}  // namespace

std::string_view method_name(HttpMethod method) {
  switch (method) {
    case HttpMethod::Get: return "GET";
    case HttpMethod::Post: return "POST";
    case HttpMethod::Put: return "PUT";
    case HttpMethod::Patch: return "PATCH";
    case HttpMethod::Delete: return "DELETE";
  }
  return "?";
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)),
      cors_(options_.cors_origins),
      web_ui_(options_.web_dir),
      docs_(options_.swagger_dir),
      // OpenAI's and the engine's prefixes belong to the API even before their routes exist.
      api_namespaces_{"v1", "kv", "metrics"} {
  install_hooks();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::add_route(HttpMethod method, const std::string& pattern, Handler handler) {
  HELIX_CHECK(!is_bound(), "route {} {} added after bind(): routes are fixed once the server listens",
              method_name(method), pattern);
  routes_.push_back(Route{method, pattern, std::regex(pattern)});
  const std::string ns = first_segment(pattern);
  if (!ns.empty() && is_literal(ns)) api_namespaces_.insert(ns);
  switch (method) {
    case HttpMethod::Get: server_.Get(pattern, std::move(handler)); break;
    case HttpMethod::Post: server_.Post(pattern, std::move(handler)); break;
    case HttpMethod::Put: server_.Put(pattern, std::move(handler)); break;
    case HttpMethod::Patch: server_.Patch(pattern, std::move(handler)); break;
    case HttpMethod::Delete: server_.Delete(pattern, std::move(handler)); break;
  }
}

void HttpServer::install_hooks() {
  server_.set_payload_max_length(options_.max_body_bytes);
  const size_t workers = std::max<size_t>(1, options_.worker_threads);
  server_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second server bind a port already in use and
  // silently share it; SO_REUSEADDR alone still allows a quick restart but reports a busy port.
  server_.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;  // the last socket offered is the one bound
  });
  server_.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return pre_route(req, res); });
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) { return fill_error_body(req, res); }));
  server_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, kStatusInternalError, "internal error: " + what);
  });
  // Runs for every response, errors and preflights included.
  server_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    cors_.apply(req, res);
  });
  server_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    double duration_ms = 0.0;
    if (t_request_start)
      duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - *t_request_start).count();
    t_request_start.reset();
    log_request(req, res, duration_ms);
  });
}

void HttpServer::install_page_routes() {
  server_.Get("/docs(/.*)?", [this](const httplib::Request& req, httplib::Response& res) { docs_.serve(req, res); });
  // Last: anything no API route took. pre_route() already answered API namespaces with 404.
  server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { web_ui_.serve(req, res); });
}

std::vector<HttpMethod> HttpServer::methods_for(const std::string& path) const {
  std::vector<HttpMethod> methods;
  for (const Route& r : routes_)
    if (std::regex_match(path, r.regex)) methods.push_back(r.method);
  return methods;
}

bool HttpServer::in_api_namespace(const std::string& path) const {
  return api_namespaces_.count(first_segment(path)) > 0;
}

std::string HttpServer::allow_header(const std::string& path) const {
  const auto methods = methods_for(path);
  if (methods.empty()) return in_api_namespace(path) ? "OPTIONS" : "GET, HEAD, OPTIONS";
  std::string allow;
  auto add = [&](std::string_view m) {
    if (allow.find(m) == std::string::npos) allow += fmt::format("{}{}", allow.empty() ? "" : ", ", m);
  };
  for (HttpMethod m : methods) {
    add(method_name(m));
    if (m == HttpMethod::Get) add("HEAD");
  }
  add("OPTIONS");
  return allow;
}

HandlerResponse HttpServer::pre_route(const httplib::Request& req, httplib::Response& res) {
  t_request_start = Clock::now();
  if (req.method == "OPTIONS") {
    cors_.answer_preflight(req, res, allow_header(req.path));
    return HandlerResponse::Handled;
  }
  const bool read_only = req.method == "GET" || req.method == "HEAD";
  const auto methods = methods_for(req.path);
  if (methods.empty()) {
    // Pages (/docs, the web UI) take GET; anything else with no API route is not found, which tells a
    // client that POSTs to /chat/completions more than "method not allowed" would.
    if (read_only && !in_api_namespace(req.path)) return HandlerResponse::Unhandled;
    send_error(res, kStatusNotFound, fmt::format("no route for {} {}", req.method, req.path));
    return HandlerResponse::Handled;
  }
  for (HttpMethod m : methods)
    if (req.method == method_name(m) || (req.method == "HEAD" && m == HttpMethod::Get))
      return HandlerResponse::Unhandled;  // cpp-httplib dispatches it
  const std::string allow = allow_header(req.path);
  res.set_header("Allow", allow);
  send_error(res, kStatusMethodNotAllowed,
             fmt::format("method {} not allowed on {} (allowed: {})", req.method, req.path, allow));
  return HandlerResponse::Handled;
}

HandlerResponse HttpServer::fill_error_body(const httplib::Request& req, httplib::Response& res) {
  // Errors from handlers already carry a JSON body; this covers those cpp-httplib raises itself
  // (unparsable request, 413, 414, ...).
  if (!res.body.empty() || res.content_length_ > 0) return HandlerResponse::Unhandled;
  send_error(res, res.status, default_error_message(req, res.status));
  return HandlerResponse::Handled;
}

Status HttpServer::bind() {
  if (is_bound()) return {};
  if (!page_routes_installed_) install_page_routes();
  page_routes_installed_ = true;
  errno = 0;
  int port = -1;
  if (options_.port == 0) {
    port = server_.bind_to_any_port(options_.host);
  } else if (server_.bind_to_port(options_.host, options_.port)) {
    port = options_.port;
  }
  if (port <= 0) {
    const int err = errno;
    return make_error(fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port,
                                  bind_failure_reason(options_.host, err)),
                      "port");
  }
  port_ = port;
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of clients overflows it and some connections fail.
  // listen() again on a listening socket only resizes its queue.
  if (listen_fd_ >= 0) ::listen(listen_fd_, SOMAXCONN);
  return {};
}

std::string HttpServer::url() const {
  const bool ipv6 = options_.host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", ipv6 ? "[" : "", options_.host, ipv6 ? "]" : "", port_);
}

Status HttpServer::run() {
  HELIX_TRY(bind());
  entering_run_ = true;
  const bool clean = stop_requested_ || server_.listen_after_bind();
  entering_run_ = false;
  if (!clean && !stop_requested_) return make_error(fmt::format("{}: the listening socket failed", url()));
  return {};
}

void HttpServer::stop() {
  stop_requested_ = true;
  // cpp-httplib ignores stop() until its accept loop has started; wait for it if run() is on its way in.
  while (entering_run_ && !server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_.stop();
}

}  // namespace helix::server
