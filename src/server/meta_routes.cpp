// GET /health and GET /openapi.json.
#include "server/api_error.h"
#include "server/openapi.h"
#include "server/routes.h"

namespace helix::server {

void add_meta_routes(HttpServer& server) {
  server.add_route(HttpMethod::Get, "/health", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"status", "ok"}, {"version", HELIX_VERSION}});
  });
  // Built once: the document depends on nothing that changes while serving.
  const std::string spec = openapi_document().dump(2);
  server.add_route(HttpMethod::Get, "/openapi.json", [spec](const httplib::Request&, httplib::Response& res) {
    res.set_content(spec, "application/json");
  });
}

}  // namespace helix::server
