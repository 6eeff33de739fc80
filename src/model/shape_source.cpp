#include "model/shape_source.h"

#include <filesystem>

namespace helix {

Result<ModelShape> resolve_model_shape(const std::string& preset_or_path) {
  for (const auto& p : model_presets())
    if (p.name == preset_or_path) return p.shape;
  // Model files are read by the GGUF / llama2.c readers (added with them).
  return find_preset(preset_or_path);
}

}  // namespace helix
