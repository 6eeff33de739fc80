// ModelShape from a GGUF file's llama.* metadata.
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "model/gguf_reader.h"

namespace helix {
namespace {

constexpr double kDefaultRopeFreqBase = 10000.0;  // llama.cpp's default when the key is absent

Result<float> positive_float(const GgufFile& f, const std::string& key, std::optional<double> fallback) {
  double v = 0.0;
  if (!f.has(key) && fallback) {
    v = *fallback;
  } else {
    auto got = f.get_float(key);
    if (!got) return Unexpected{got.error()};
    v = *got;
  }
  if (!std::isfinite(v) || v <= 0.0) return errorf("{}: metadata key '{}': must be > 0, got {}", f.path(), key, v);
  return static_cast<float>(v);
}

Result<int64_t> vocab_size(const GgufFile& f) {
  constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
  if (const GgufValue* tokens = f.find(kTokens)) {
    if (tokens->type != GgufType::ARRAY || tokens->array_type != GgufType::STRING)
      return errorf("{}: metadata key '{}': expected an array of string, got {}", f.path(), kTokens,
                    tokens->type == GgufType::ARRAY
                        ? fmt::format("array of {}", gguf_type_name(tokens->array_type))
                        : std::string(gguf_type_name(tokens->type)));
    // Bounded by the file size: each string took at least 8 bytes of it.
    return static_cast<int64_t>(tokens->array_size);
  }
  if (f.has("llama.vocab_size")) return f.get_int("llama.vocab_size");
  return errorf("{}: no vocabulary size: neither '{}' nor 'llama.vocab_size' is present", f.path(), kTokens);
}

}  // namespace

Result<ModelShape> shape_from_gguf(const GgufFile& f) {
  auto arch = f.get_string("general.architecture");
  if (!arch) return Unexpected{arch.error()};
  if (*arch != "llama") return errorf("{}: unsupported architecture '{}' (Helix runs 'llama')", f.path(), *arch);

  ModelShape s;
  s.name = std::filesystem::path(f.path()).stem().string();
  struct IntField {
    const char* key;
    int64_t* out;
  };
  for (const IntField& field : {IntField{"llama.block_count", &s.n_layers},
                                IntField{"llama.embedding_length", &s.hidden_dim},
                                IntField{"llama.attention.head_count", &s.n_heads},
                                IntField{"llama.feed_forward_length", &s.ffn_dim},
                                IntField{"llama.context_length", &s.context_length}}) {
    auto v = f.get_int(field.key);
    if (!v) return Unexpected{v.error()};
    *field.out = *v;
  }
  s.n_kv_heads = s.n_heads;  // no key: multi-head attention
  if (f.has("llama.attention.head_count_kv")) {
    auto v = f.get_int("llama.attention.head_count_kv");
    if (!v) return Unexpected{v.error()};
    s.n_kv_heads = *v;
  }
  if (s.n_heads <= 0)
    return errorf("{}: metadata key 'llama.attention.head_count': must be > 0, got {}", f.path(), s.n_heads);
  if (s.hidden_dim % s.n_heads != 0)
    return errorf("{}: llama.embedding_length {} is not a multiple of llama.attention.head_count {}", f.path(),
                  s.hidden_dim, s.n_heads);
  s.head_dim = s.hidden_dim / s.n_heads;
  if (f.has("llama.rope.dimension_count")) {
    auto rope_dim = f.get_int("llama.rope.dimension_count");
    if (!rope_dim) return Unexpected{rope_dim.error()};
    // RoPE over part of each head (rope_dim < head_dim) is a different model; refuse rather than misrun.
    if (*rope_dim != s.head_dim)
      return errorf("{}: llama.rope.dimension_count {} != head_dim {}: partial rotary embeddings are not supported",
                    f.path(), *rope_dim, s.head_dim);
  }
  auto base = positive_float(f, "llama.rope.freq_base", kDefaultRopeFreqBase);
  if (!base) return Unexpected{base.error()};
  s.rope_freq_base = *base;
  auto eps = positive_float(f, "llama.attention.layer_norm_rms_epsilon", std::nullopt);
  if (!eps) return Unexpected{eps.error()};
  s.rms_norm_eps = *eps;
  auto vocab = vocab_size(f);
  if (!vocab) return Unexpected{vocab.error()};
  s.vocab_size = *vocab;
  s.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  s.kv_dtype = DType::F16;
  if (auto ok = s.validate(); !ok) return errorf("{}: {}", f.path(), ok.error().message);
  return s;
}

}  // namespace helix
