// helix serve: the HTTP API, Swagger UI and web UI; with -m FILE also the model behind the OpenAI routes,
// /metrics and /kv/*. Stops cleanly on SIGINT/SIGTERM: the engine stops first (every stream gets its last
// chunk), then the server stops accepting connections, requests in flight finish, exit 0.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/engine_flags.h"
#include "engine/serving_engine.h"
#include "engine/speculative/vocab_check.h"
#include "model/tokenizer_for_model.h"
#include "server/chat_prompt.h"
#include "server/http_server.h"
#include "server/routes.h"

namespace helix::cli {

namespace {

// How long a shutdown waits for streams to write their last chunk once the engine has stopped.
constexpr std::chrono::seconds kStreamDrainTimeout{5};

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Signals are taken synchronously by one thread (sigwait) rather than in a handler, so stopping the
// server can use ordinary locks and threads. They must be blocked before any other thread exists (the
// engine's, its thread pool's, the server's), so that all inherit the mask: serve() does it first.
void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

class StopOnSignal {
 public:
  explicit StopOnSignal(std::function<void()> stop) : signals_(stop_signals()) {
    thread_ = std::thread([this, stop = std::move(stop)] {
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
        stopping = true;
        stop();
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

struct ServeOptions {
  server::HttpServerOptions http;
  EngineFlags engine;
  std::string kv_cache = "paged";
  int64_t max_step_tokens = 512;
  bool no_prefix_caching = false;
  std::string served_model_name;
  std::string spec;  // off, ngram or draft; empty: draft with --draft-model, else off
  int32_t spec_tokens = 4;
  std::string draft_path;
  std::string draft_tokenizer_path;
};

// Loads the model and its tokenizer, builds the engine (which logs its capacity line) and the routes' options.
std::unique_ptr<ServingEngine> load_engine(const ServeOptions& o, server::ServingRoutesOptions& routes) {
  ServingOptions so;
  so.engine = o.engine.engine_options();
  if (o.kv_cache == "paged") {
    so.kv_mode = KvCacheMode::Paged;
  } else if (o.kv_cache == "contiguous") {
    so.kv_mode = KvCacheMode::Contiguous;
  } else {
    fail(Error{fmt::format("kv_cache: '{}' is not paged or contiguous", o.kv_cache), "kv_cache"});
  }
  so.max_step_tokens = o.max_step_tokens;
  so.enable_prefix_caching = !o.no_prefix_caching;
  so.spec_method = unwrap(parse_spec_method(o.spec.empty() ? (o.draft_path.empty() ? "off" : "draft") : o.spec, "--spec"));
  so.spec_tokens = o.spec_tokens;
  if (so.spec_method == SpecMethod::Draft && o.draft_path.empty())
    fail(Error{"--spec: draft needs --draft-model FILE", "spec"});
  if (auto st = so.validate(); !st) fail(st.error());

  ModelFile file = unwrap(open_model_file(o.engine.model_path));
  std::unique_ptr<Transformer> draft;
  if (!o.draft_path.empty()) {
    ModelFile draft_file = unwrap(open_model_file(o.draft_path));
    if (auto st = check_draft_vocabulary(file, draft_file, o.engine.tokenizer_path, o.draft_tokenizer_path); !st)
      fail(st.error());
    prefault(draft_file);
    draft = unwrap(Transformer::from_file(std::move(draft_file)));
  }
  Tokenizer tokenizer = unwrap(tokenizer_for_model(file, o.engine.tokenizer_path));
  routes.chat = unwrap(server::chat_renderer_for_model(file));
  routes.served_model_name = o.served_model_name.empty()
                                 ? std::filesystem::path(o.engine.model_path).stem().string()
                                 : o.served_model_name;
  prefault(file);
  auto model = unwrap(Transformer::from_file(std::move(file)));
  auto engine = unwrap(ServingEngine::create(std::move(model), std::move(tokenizer), so, std::move(draft)));
  spdlog::info("model {} served as '{}': {} kv cache, max_seq_len {}, prefix caching {}, speculation {}{}",
               o.engine.model_path, routes.served_model_name, o.kv_cache, engine->max_seq_len(),
               so.kv_mode == KvCacheMode::Paged && so.enable_prefix_caching ? "on" : "off",
               spec_method_name(so.spec_method),
               so.spec_method == SpecMethod::None ? "" : fmt::format(" (K = {})", so.spec_tokens));
  if (!o.draft_path.empty()) spdlog::info("draft model {}: its own KV pool of {} blocks", o.draft_path,
                                          engine->capacity().pool_blocks);
  return engine;
}

void serve(const ServeOptions& o) {
  block_stop_signals();
  server::ServingRoutesOptions routes;
  std::unique_ptr<ServingEngine> engine;  // outlives the server, whose handlers hold it
  if (!o.engine.model_path.empty()) engine = load_engine(o, routes);

  server::HttpServer server(o.http);
  server::add_foundation_routes(server, engine.get());
  if (engine) server::add_serving_routes(server, *engine, routes);
  if (auto bound = server.bind(); !bound) fail(bound.error());
  if (engine) engine->start();

  // The engine stops first so every open stream ends with its last chunk; then the server, which would
  // otherwise cut streams still open.
  auto stop = [&] {
    if (engine) {
      engine->stop();
      if (!routes.generations->wait_idle(kStreamDrainTimeout))
        spdlog::warn("{} responses still open after {} s: closing them", routes.generations->count(),
                     kStreamDrainTimeout.count());
    }
    server.stop();
  };
  {
    StopOnSignal stop_on_signal(stop);
    // 0.0.0.0 is where it listens, not an address a browser should open.
    const bool any_address = o.http.host == "0.0.0.0" || o.http.host == "::";
    const std::string browse = any_address ? fmt::format("http://localhost:{}", server.port()) : server.url();
    spdlog::info("helix {} listening on {} (web UI {}/, API docs {}/docs{})", HELIX_VERSION, server.url(), browse,
                 browse, engine ? fmt::format(", OpenAI API {}/v1", browse) : "");
    if (auto ran = server.run(); !ran) fail(ran.error());
  }
  if (engine) engine->stop();
  spdlog::info("server stopped");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve the HTTP API (/compare/memory, /docs) and the web UI; with -m, a model behind the OpenAI API");
  cmd->add_option("--host", o->http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->http.port, "Port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--cors-origin", o->http.cors_origins,
                  "Origin whose pages may call the API (repeatable; '*' for any). "
                  "Default: http://localhost:5173 and http://127.0.0.1:5173 (the Vite dev server)");
  cmd->add_option("--web-dir", o->http.web_dir, "Built web UI served at /")->capture_default_str();
  cmd->add_option("--swagger-dir", o->http.swagger_dir, "swagger-ui-dist package served at /docs")
      ->capture_default_str();
  o->engine.add_to(*cmd, /*model_required=*/false);
  cmd->add_option("--kv-cache", o->kv_cache, "KV cache layout: paged or contiguous (the baseline)")
      ->capture_default_str();
  cmd->add_option("--max-step-tokens", o->max_step_tokens,
                  "Tokens one forward step processes (prompt chunks and decode tokens)")
      ->capture_default_str();
  cmd->add_flag("--no-prefix-caching", o->no_prefix_caching, "Do not reuse the KV blocks of shared prompt prefixes");
  cmd->add_option("--spec", o->spec,
                  "Speculative decoding by default for requests: off, ngram (prompt lookup) or draft (needs "
                  "--draft-model; the default when one is given)")
      ->check(CLI::IsMember({"off", "ngram", "draft"}));
  cmd->add_option("--spec-tokens", o->spec_tokens, "Draft tokens verified per sequence per step (1..8)")
      ->check(CLI::Range(1, kMaxSpecTokens))
      ->capture_default_str();
  cmd->add_option("--draft-model", o->draft_path,
                  "Draft model with the target's vocabulary (implies --spec draft); it has its own KV pool");
  cmd->add_option("--draft-tokenizer", o->draft_tokenizer_path,
                  "Tokenizer of a llama2.c draft model (default: found beside it)");
  cmd->add_option("--served-model-name", o->served_model_name,
                  "Model name the OpenAI API reports (default: the model file's name without extension)");
  cmd->callback([o] { serve(*o); });
}

}  // namespace helix::cli
