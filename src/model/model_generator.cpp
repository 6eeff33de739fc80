#include "model/model_generator.h"

#include <cmath>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "kernels/quantize.h"
#include "model/gguf_writer.h"
#include "model/sampler.h"
#include "model/synthetic_vocab.h"

namespace helix {
namespace {

uint64_t name_hash(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// rows x cols values, uniform with standard deviation `stddev` (so outputs of a matrix keep unit scale).
std::vector<float> random_values(uint64_t seed, const std::string& name, int64_t count, float stddev) {
  Rng rng(seed ^ name_hash(name));
  const double half_width = std::sqrt(3.0) * stddev;
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>((2.0 * rng.uniform() - 1.0) * half_width);
  return v;
}

}  // namespace

Status write_random_model(const ModelShape& shape, const GeneratedModelOptions& options, const std::string& path,
                          const WriteProgress& progress) {
  HELIX_TRY(shape.validate());
  const DType wt = options.q4_k_m ? DType::Q4_K : options.weight_type;
  if (wt == DType::Q4_K || wt == DType::Q6_K) {
    if (shape.hidden_dim % 256 != 0 || shape.ffn_dim % 256 != 0)
      return errorf("--type: {} needs hidden and ffn sizes that are multiples of 256", dtype_name(wt));
  } else if (wt != DType::F32 && wt != DType::F16 && wt != DType::BF16 &&
             (shape.hidden_dim % 32 != 0 || shape.ffn_dim % 32 != 0)) {
    return errorf("--type: {} needs hidden and ffn sizes that are multiples of 32", dtype_name(wt));
  }
  auto vocab = make_synthetic_vocab(shape.vocab_size);
  HELIX_TRY(vocab);

  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", shape.name + "-random");
  w.add_uint32("general.file_type", options.q4_k_m ? 15u : dtype_info(wt).ggml_type);  // 15: ggml MOSTLY_Q4_K_M
  w.add_uint32("llama.context_length", static_cast<uint32_t>(shape.context_length));
  w.add_uint32("llama.embedding_length", static_cast<uint32_t>(shape.hidden_dim));
  w.add_uint32("llama.block_count", static_cast<uint32_t>(shape.n_layers));
  w.add_uint32("llama.feed_forward_length", static_cast<uint32_t>(shape.ffn_dim));
  w.add_uint32("llama.rope.dimension_count", static_cast<uint32_t>(shape.head_dim));
  w.add_uint32("llama.attention.head_count", static_cast<uint32_t>(shape.n_heads));
  w.add_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(shape.n_kv_heads));
  w.add_float32("llama.attention.layer_norm_rms_epsilon", shape.rms_norm_eps);
  w.add_float32("llama.rope.freq_base", shape.rope_freq_base);
  w.add_uint32("llama.vocab_size", static_cast<uint32_t>(shape.vocab_size));
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", vocab->tokens);
  w.add_float_array("tokenizer.ggml.scores", vocab->scores);
  w.add_int32_array("tokenizer.ggml.token_type", vocab->token_types);
  w.add_uint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(vocab->unk_id));
  w.add_uint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(vocab->bos_id));
  w.add_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(vocab->eos_id));
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  w.add_bool("tokenizer.ggml.add_eos_token", false);

  int64_t total_bytes = 0, written_bytes = 0;
  const uint64_t seed = options.seed;
  // The tensors a Q4_K_M file keeps at higher precision.
  auto type_of = [&](const std::string& name) {
    const bool keep_q6 = name.find("attn_v") != std::string::npos || name.find("ffn_down") != std::string::npos ||
                         name == "output.weight";
    return options.q4_k_m && keep_q6 ? DType::Q6_K : wt;
  };
  auto add_matrix = [&](const std::string& name, int64_t rows, int64_t cols, float stddev) -> Status {
    const DType wt = type_of(name);
    total_bytes += dtype_bytes_for(wt, rows * cols);
    return w.add_tensor_deferred(name, wt, {cols, rows}, [=, &written_bytes, &total_bytes]() -> Result<std::vector<uint8_t>> {
      const std::vector<float> values = random_values(seed, name, rows * cols, stddev);
      std::vector<uint8_t> bytes(dtype_bytes_for(wt, rows * cols));
      const int64_t row_bytes = dtype_bytes_for(wt, cols);
      for (int64_t r = 0; r < rows; ++r) quantize_row(wt, &values[r * cols], &bytes[r * row_bytes], cols);
      written_bytes += static_cast<int64_t>(bytes.size());
      if (progress) progress(written_bytes, total_bytes);
      return bytes;
    });
  };
  auto add_norm = [&](const std::string& name, int64_t n) -> Status {
    std::vector<float> ones(n, 1.0f);
    std::vector<uint8_t> bytes(n * sizeof(float));
    std::memcpy(bytes.data(), ones.data(), bytes.size());
    return w.add_tensor(name, DType::F32, {n}, std::move(bytes));
  };

  const int64_t h = shape.hidden_dim, q = shape.n_heads * shape.head_dim, kv = shape.n_kv_heads * shape.head_dim;
  const float in_h = 1.0f / std::sqrt(static_cast<float>(h));
  const float in_q = 1.0f / std::sqrt(static_cast<float>(q));
  const float in_ffn = 1.0f / std::sqrt(static_cast<float>(shape.ffn_dim));
  HELIX_TRY(add_matrix("token_embd.weight", shape.vocab_size, h, 1.0f));
  for (int64_t l = 0; l < shape.n_layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    HELIX_TRY(add_norm(p + "attn_norm.weight", h));
    HELIX_TRY(add_matrix(p + "attn_q.weight", q, h, in_h));
    HELIX_TRY(add_matrix(p + "attn_k.weight", kv, h, in_h));
    HELIX_TRY(add_matrix(p + "attn_v.weight", kv, h, in_h));
    HELIX_TRY(add_matrix(p + "attn_output.weight", h, q, in_q));
    HELIX_TRY(add_norm(p + "ffn_norm.weight", h));
    HELIX_TRY(add_matrix(p + "ffn_gate.weight", shape.ffn_dim, h, in_h));
    HELIX_TRY(add_matrix(p + "ffn_up.weight", shape.ffn_dim, h, in_h));
    HELIX_TRY(add_matrix(p + "ffn_down.weight", h, shape.ffn_dim, in_ffn));
  }
  HELIX_TRY(add_norm("output_norm.weight", h));
  if (!shape.tied_embeddings) HELIX_TRY(add_matrix("output.weight", shape.vocab_size, h, in_h));
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return w.write(path);
}

}  // namespace helix
