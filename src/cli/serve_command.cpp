// helix serve: the HTTP API, Swagger UI and web UI. Stops cleanly on SIGINT/SIGTERM: no new connections,
// requests in flight finish, exit 0.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "server/http_server.h"
#include "server/routes.h"

namespace helix::cli {

namespace {

// Signals are taken synchronously by one thread (sigwait) rather than in a handler, so stopping the
// server can use ordinary locks and threads. Blocked before any server thread exists, so all inherit it.
class StopOnSignal {
 public:
  explicit StopOnSignal(server::HttpServer& server) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this, &server] {
      for (bool stopping = false;;) {
        int sig = 0;
        sigwait(&signals_, &sig);
        if (done_) return;
        const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
        if (stopping) {
          // A second signal means the user will not wait for requests in flight.
          spdlog::warn("received {} again: exiting without waiting", name);
          std::_Exit(1);
        }
        spdlog::info("received {}: shutting down, finishing requests in flight", name);
        server.stop();
        stopping = true;
      }
    });
  }
  ~StopOnSignal() {
    // The server stopped on its own (or failed): wake the waiting thread.
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }

 private:
  sigset_t signals_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

void add_serve_command(CLI::App& app) {
  auto opts = std::make_shared<server::HttpServerOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve the HTTP API (/compare/memory, /docs) and the web UI");
  cmd->add_option("--host", opts->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "Port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--cors-origin", opts->cors_origins,
                  "Origin whose pages may call the API (repeatable; '*' for any). "
                  "Default: http://localhost:5173 and http://127.0.0.1:5173 (the Vite dev server)");
  cmd->add_option("--web-dir", opts->web_dir, "Built web UI served at /")->capture_default_str();
  cmd->add_option("--swagger-dir", opts->swagger_dir, "swagger-ui-dist package served at /docs")
      ->capture_default_str();
  cmd->callback([opts] {
    server::HttpServer server(*opts);
    server::add_foundation_routes(server);
    if (auto bound = server.bind(); !bound) fail(bound.error());
    {
      StopOnSignal stop_on_signal(server);
      // 0.0.0.0 is where it listens, not an address a browser should open.
      const bool any_address = opts->host == "0.0.0.0" || opts->host == "::";
      const std::string browse = any_address ? fmt::format("http://localhost:{}", server.port()) : server.url();
      spdlog::info("helix {} listening on {} (web UI {}/, API docs {}/docs)", HELIX_VERSION, server.url(), browse,
                   browse);
      if (auto ran = server.run(); !ran) fail(ran.error());
    }
    spdlog::info("server stopped");
  });
}

}  // namespace helix::cli
