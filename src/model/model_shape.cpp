#include "model/model_shape.h"

#include <fmt/format.h>

namespace helix {

int64_t ModelShape::kv_bytes_per_token() const {
  // 2 = one K and one V vector per KV head per layer.
  return dtype_bytes_for(kv_dtype, n_layers * 2 * n_kv_heads * head_dim);
}

int64_t ModelShape::parameter_count() const {
  const int64_t kv_dim = n_kv_heads * head_dim;
  const int64_t q_dim = n_heads * head_dim;
  const int64_t attention = hidden_dim * q_dim + 2 * hidden_dim * kv_dim + q_dim * hidden_dim;
  const int64_t ffn = 3 * hidden_dim * ffn_dim;
  const int64_t norms = 2 * hidden_dim;
  const int64_t embedding = vocab_size * hidden_dim;
  return embedding + n_layers * (attention + ffn + norms) + hidden_dim + (tied_embeddings ? 0 : embedding);
}

Status ModelShape::validate() const {
  struct Field {
    const char* name;
    int64_t value;
  };
  for (const Field& f : {Field{"n_layers", n_layers}, Field{"n_heads", n_heads}, Field{"n_kv_heads", n_kv_heads},
                         Field{"head_dim", head_dim}, Field{"hidden_dim", hidden_dim}, Field{"ffn_dim", ffn_dim},
                         Field{"vocab_size", vocab_size}, Field{"context_length", context_length}}) {
    if (f.value <= 0) return make_error(fmt::format("{}: must be > 0, got {}", f.name, f.value), f.name);
    if (f.value > (int64_t{1} << 31))
      return make_error(fmt::format("{}: {} is absurdly large", f.name, f.value), f.name);
  }
  if (n_heads % n_kv_heads != 0)
    return make_error(fmt::format("n_kv_heads: {} does not divide n_heads {}", n_kv_heads, n_heads), "n_kv_heads");
  if (n_heads * head_dim != hidden_dim)
    return make_error(fmt::format("head_dim: n_heads {} * head_dim {} != hidden_dim {}", n_heads, head_dim,
                                  hidden_dim),
                      "head_dim");
  if (!is_kv_dtype(kv_dtype))
    return make_error(fmt::format("kv_dtype: {} cannot hold a KV cache", dtype_name(kv_dtype)), "kv_dtype");
  if (kv_dtype == DType::Q8_0 && (n_kv_heads * head_dim) % 32 != 0)
    return make_error("kv_dtype: q8_0 needs n_kv_heads * head_dim to be a multiple of 32", "kv_dtype");
  return {};
}

namespace {

ModelShape make_shape(const char* name, int64_t layers, int64_t heads, int64_t kv_heads, int64_t head_dim,
                      int64_t ffn, int64_t vocab, int64_t context, float rope_base, float eps, bool tied) {
  ModelShape s;
  s.name = name;
  s.n_layers = layers;
  s.n_heads = heads;
  s.n_kv_heads = kv_heads;
  s.head_dim = head_dim;
  s.hidden_dim = heads * head_dim;
  s.ffn_dim = ffn;
  s.vocab_size = vocab;
  s.context_length = context;
  s.kv_dtype = DType::F16;
  s.rope_freq_base = rope_base;
  s.rms_norm_eps = eps;
  s.tied_embeddings = tied;
  return s;
}

}  // namespace

const std::vector<ModelPreset>& model_presets() {
  // Values from each model's published config.json.
  static const std::vector<ModelPreset> presets = {
      {"tinyllama-1.1b", "TinyLlama-1.1B: 22 layers, GQA 32 query / 4 KV heads",
       make_shape("tinyllama-1.1b", 22, 32, 4, 64, 5632, 32000, 2048, 10000.0f, 1e-5f, false)},
      {"llama-2-7b", "Llama-2-7B: 32 layers, MHA (32 KV heads, no GQA)",
       make_shape("llama-2-7b", 32, 32, 32, 128, 11008, 32000, 4096, 10000.0f, 1e-5f, false)},
      {"llama-3-8b", "Llama-3-8B: 32 layers, GQA 32 query / 8 KV heads",
       make_shape("llama-3-8b", 32, 32, 8, 128, 14336, 128256, 8192, 500000.0f, 1e-5f, false)},
      {"mistral-7b", "Mistral-7B-v0.1: 32 layers, GQA 32 query / 8 KV heads",
       make_shape("mistral-7b", 32, 32, 8, 128, 14336, 32000, 32768, 10000.0f, 1e-5f, false)},
      {"smollm2-135m", "SmolLM2-135M: 30 layers, GQA 9 query / 3 KV heads",
       make_shape("smollm2-135m", 30, 9, 3, 64, 1536, 49152, 8192, 100000.0f, 1e-5f, true)},
      {"stories260k", "stories260K (TinyStories): 5 layers, GQA 8 query / 4 KV heads",
       make_shape("stories260k", 5, 8, 4, 8, 172, 512, 512, 10000.0f, 1e-5f, true)},
  };
  return presets;
}

Result<ModelShape> find_preset(const std::string& name) {
  for (const auto& p : model_presets())
    if (p.name == name) return p.shape;
  std::string known;
  for (const auto& p : model_presets()) known += (known.empty() ? "" : ", ") + p.name;
  return make_error(fmt::format("unknown model preset '{}' (known: {})", name, known), "model");
}

}  // namespace helix
