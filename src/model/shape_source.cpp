#include "model/shape_source.h"

#include <filesystem>

#include "model/model_file.h"

namespace helix {

Result<ModelShape> resolve_model_shape(const std::string& preset_or_path) {
  for (const auto& p : model_presets())
    if (p.name == preset_or_path) return p.shape;
  std::error_code ec;
  if (std::filesystem::exists(preset_or_path, ec)) {
    auto model = open_model_file(preset_or_path);
    if (!model) return make_error(model.error().message, "model");
    return model->shape;
  }
  return find_preset(preset_or_path);
}

}  // namespace helix
