// The server's routes, each group in its own file. `helix serve` adds the foundation's routes always, and the
// serving routes (/v1/*, /metrics, /kv/*) when it runs a model; handlers capture the engine they talk to.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "server/chat_prompt.h"
#include "server/http_server.h"
#include "server/in_flight.h"

namespace helix {
class ServingEngine;
}

namespace helix::server {

// GET /compare/memory and GET /compare/speculative (compare_routes.cpp). With an engine, /compare/memory's
// source=live answers from it and /compare/speculative runs on it; without, 422 and 503.
void add_compare_routes(HttpServer& server, ServingEngine* engine = nullptr);
void add_model_routes(HttpServer& server);    // GET /models/presets            (model_routes.cpp)
// GET /health (model_loaded: whether an engine serves), GET /openapi.json  (meta_routes.cpp)
void add_meta_routes(HttpServer& server, const ServingEngine* engine = nullptr);

inline void add_foundation_routes(HttpServer& server, ServingEngine* engine = nullptr) {
  add_meta_routes(server, engine);
  add_model_routes(server);
  add_compare_routes(server, engine);
}

struct ServingRoutesOptions {
  std::string served_model_name;  // the name /v1 reports and accepts; empty: the engine's model_name()
  ChatRenderer chat;              // renders chat messages into a prompt; empty: /v1/chat/completions answers 400
  // How often a handler waiting for tokens checks whether its client is still there.
  std::chrono::milliseconds poll_interval{50};
  std::chrono::milliseconds kv_events_keepalive{15000};  // comment line on an idle /kv/events stream
  size_t kv_events_queue = 4096;  // events buffered per /kv/events client; older ones are dropped past it
  std::shared_ptr<InFlight> generations = std::make_shared<InFlight>();  // /v1 requests being answered
};

// POST /v1/completions, POST /v1/chat/completions, GET /v1/models, GET /v1/models/{id}  (openai_routes.cpp)
void add_openai_routes(HttpServer& server, ServingEngine& engine, const ServingRoutesOptions& options);
// GET /metrics: Prometheus text, or JSON with Accept: application/json  (metrics_routes.cpp)
void add_metrics_routes(HttpServer& server, ServingEngine& engine);
// GET /kv/blocks, GET /kv/events (SSE)  (kv_routes.cpp)
void add_kv_routes(HttpServer& server, ServingEngine& engine, const ServingRoutesOptions& options);

inline void add_serving_routes(HttpServer& server, ServingEngine& engine, const ServingRoutesOptions& options) {
  add_openai_routes(server, engine, options);
  add_metrics_routes(server, engine);
  add_kv_routes(server, engine, options);
}

}  // namespace helix::server
