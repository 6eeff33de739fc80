// GET /health and GET /openapi.json.
#include "engine/serving_engine.h"
#include "server/api_error.h"
#include "server/openapi.h"
#include "server/routes.h"

namespace helix::server {

void add_meta_routes(HttpServer& server, const ServingEngine* engine) {
  // model_loaded tells a client (the web UI) whether /v1, /kv/* and live figures exist before it asks them.
  const bool model_loaded = engine != nullptr;
  server.add_route(HttpMethod::Get, "/health", [model_loaded](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "ok"}, {"version", HELIX_VERSION}, {"model_loaded", model_loaded}});
  });
  // Built once: the document depends on nothing that changes while serving.
  const std::string spec = openapi_document().dump(2);
  server.add_route(HttpMethod::Get, "/openapi.json", [spec](const httplib::Request&, httplib::Response& res) {
    res.set_content(spec, "application/json");
  });
}

}  // namespace helix::server
