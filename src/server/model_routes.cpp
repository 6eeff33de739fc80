// GET /models/presets: the built-in model shapes /compare/memory accepts as `model`.
#include "server/api_error.h"
#include "server/model_json.h"
#include "server/routes.h"

namespace helix::server {

void add_model_routes(HttpServer& server) {
  server.add_route(HttpMethod::Get, "/models/presets", [](const httplib::Request&, httplib::Response& res) {
    nlohmann::json presets = nlohmann::json::array();
    for (const ModelPreset& p : model_presets())
      presets.push_back({{"name", p.name}, {"description", p.description}, {"shape", model_shape_json(p.shape)}});
    send_json(res, {{"default", kDefaultPreset}, {"presets", std::move(presets)}});
  });
}

}  // namespace helix::server
