// An HttpServer on a free loopback port, serving in a background thread for the length of a test.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "server/http_server.h"
#include "server/routes.h"

namespace helix::test {

class TestServer {
 public:
  // `setup` may add routes before the server binds; `engine` answers /compare/memory?source=live.
  explicit TestServer(server::HttpServerOptions options = {},
                      const std::function<void(server::HttpServer&)>& setup = nullptr,
                      ServingEngine* engine = nullptr) {
    spdlog::set_level(spdlog::level::warn);  // one line per request would drown the test output
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<server::HttpServer>(std::move(options));
    server::add_foundation_routes(*server_, engine);
    if (setup) setup(*server_);
    auto bound = server_->bind();
    if (!bound) ADD_FAILURE() << bound.error().message;
    thread_ = std::thread([this] {
      auto ran = server_->run();
      if (!ran) ADD_FAILURE() << ran.error().message;
    });
  }
  ~TestServer() {
    server_->stop();
    thread_.join();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  int port() const { return server_->port(); }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port()); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    c.set_url_encode(false);  // tests send targets exactly as written
    return c;
  }
  server::HttpServer& server() { return *server_; }

 private:
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

// Parses a response body, failing the test (not crashing) on invalid JSON.
inline nlohmann::json parse_json(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << body;
  return j;
}

}  // namespace helix::test
