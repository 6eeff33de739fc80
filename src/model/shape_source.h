// Where a ModelShape comes from: a preset name, or a model file (GGUF or llama2.c checkpoint).
#pragma once

#include <string>

#include "common/result.h"
#include "model/model_shape.h"

namespace helix {

// "tinyllama-1.1b" -> the preset; anything that names an existing file -> that file's shape.
Result<ModelShape> resolve_model_shape(const std::string& preset_or_path);

}  // namespace helix
