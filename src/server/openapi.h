// The OpenAPI 3.0.3 document served at GET /openapi.json (and read by the Swagger UI at /docs).
// Every route, parameter and response schema is described here, in one place.
#pragma once

#include <nlohmann/json.hpp>

namespace helix::server {

nlohmann::json openapi_document();

}  // namespace helix::server
