// The foundation's routes, each group in its own file. `helix serve` adds them all; the serving engine
// adds its own (/v1/*, /kv/*, /metrics) the same way, through HttpServer::add_route.
#pragma once

#include "server/http_server.h"

namespace helix::server {

void add_compare_routes(HttpServer& server);  // GET /compare/memory            (compare_routes.cpp)
void add_model_routes(HttpServer& server);    // GET /models/presets            (model_routes.cpp)
void add_meta_routes(HttpServer& server);     // GET /health, GET /openapi.json (meta_routes.cpp)

inline void add_foundation_routes(HttpServer& server) {
  add_meta_routes(server);
  add_model_routes(server);
  add_compare_routes(server);
}

}  // namespace helix::server
