// The OpenAPI 3.0.3 document served at GET /openapi.json (and read by the Swagger UI at /docs).
// Every route, parameter and response schema is described here, in one place.
#pragma once

#include <nlohmann/json.hpp>

namespace helix::server {

nlohmann::json openapi_document();

// The serving routes' paths and schemas (openapi_serving.cpp), added to the document's.
void add_serving_openapi(nlohmann::json& paths, nlohmann::json& schemas);
// GET /compare/speculative (openapi_speculative.cpp).
void add_speculative_openapi(nlohmann::json& paths, nlohmann::json& schemas);

}  // namespace helix::server
