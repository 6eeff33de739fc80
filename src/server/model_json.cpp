#include "server/model_json.h"

#include <string>

#include <fmt/format.h>

namespace helix::server {

namespace {

// 1e-5f widened to double is 9.99999974737875e-06; the shortest form that reads back as the same float
// is what the model card says.
double shortest(float value) { return std::stod(fmt::format("{}", value)); }

}  // namespace

nlohmann::json model_shape_json(const ModelShape& s) {
  return {
      {"name", s.name},
      {"n_layers", s.n_layers},
      {"n_heads", s.n_heads},
      {"n_kv_heads", s.n_kv_heads},
      {"head_dim", s.head_dim},
      {"hidden_dim", s.hidden_dim},
      {"ffn_dim", s.ffn_dim},
      {"vocab_size", s.vocab_size},
      {"context_length", s.context_length},
      {"kv_dtype", std::string(dtype_name(s.kv_dtype))},
      {"rope_freq_base", shortest(s.rope_freq_base)},
      {"rms_norm_eps", shortest(s.rms_norm_eps)},
      {"tied_embeddings", s.tied_embeddings},
      {"kv_bytes_per_token", s.kv_bytes_per_token()},
      {"parameter_count", s.parameter_count()},
      {"uses_gqa", s.uses_gqa()},
  };
}

}  // namespace helix::server
