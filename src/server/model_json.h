// JSON for a model shape, as GET /models/presets reports it (and the engine's model info will).
#pragma once

#include <nlohmann/json.hpp>

#include "model/model_shape.h"

namespace helix::server {

// Every field of the shape, plus kv_bytes_per_token (in the shape's kv_dtype), parameter_count, uses_gqa.
nlohmann::json model_shape_json(const ModelShape& shape);

}  // namespace helix::server
