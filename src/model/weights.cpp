#include "model/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/fp16.h"

namespace helix {
namespace {

std::string dims_text(const std::vector<int64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

Result<const TensorView*> find_tensor(const ModelFile& file, const std::string& name,
                                      const std::vector<int64_t>& expected_dims) {
  const TensorView* t = file.find(name);
  if (t == nullptr) {
    for (const UnsupportedTensor& u : file.unsupported)
      if (u.name == name)
        return errorf("{}: tensor type {} is not supported (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k are)", name,
                      ggml_type_name(u.ggml_type));
    return errorf("{}: missing tensor (expected {})", name, dims_text(expected_dims));
  }
  if (t->dims != expected_dims)
    return errorf("{}: expected {} {}, got {} {}", name, dims_text(expected_dims), dtype_name(t->dtype),
                  dims_text(t->dims), dtype_name(t->dtype));
  return t;
}

Result<WeightMatrix> bind_matrix(const ModelFile& file, const std::string& name, int64_t rows, int64_t cols) {
  auto t = find_tensor(file, name, {cols, rows});
  HELIX_TRY(t);
  const TensorView& view = **t;
  if (cols % dtype_info(view.dtype).block_values != 0)
    return errorf("{}: row length {} is not a whole number of {} blocks", name, cols, dtype_name(view.dtype));
  return WeightMatrix{view.dtype, view.data, rows, cols};
}

Result<const float*> bind_vector(const ModelFile& file, const std::string& name, int64_t n, Weights& w) {
  auto t = find_tensor(file, name, {n});
  HELIX_TRY(t);
  const TensorView& view = **t;
  switch (view.dtype) {
    case DType::F32:
      return reinterpret_cast<const float*>(view.data);
    case DType::F16:
    case DType::BF16: {
      std::vector<float> wide(n);
      const auto* src = reinterpret_cast<const uint16_t*>(view.data);
      for (int64_t i = 0; i < n; ++i)
        wide[i] = view.dtype == DType::F16 ? fp16_to_f32(src[i]) : bf16_to_f32(src[i]);
      w.widened_norms.push_back(std::move(wide));
      return w.widened_norms.back().data();
    }
    default:
      return errorf("{}: norm weights must be f32, f16 or bf16, got {}", name, dtype_name(view.dtype));
  }
}

int64_t matrix_bytes(const WeightMatrix& m) { return dtype_bytes_for(m.dtype, m.rows * m.cols); }

}  // namespace

#define HELIX_BIND(target, expr)     \
  do {                               \
    auto bound_ = (expr);            \
    HELIX_TRY(bound_);               \
    target = *bound_;                \
  } while (0)

Result<Weights> bind_weights(const ModelFile& file) {
  const ModelShape& s = file.shape;
  const int64_t q_dim = s.n_heads * s.head_dim;
  const int64_t kv_dim = s.n_kv_heads * s.head_dim;
  Weights w;
  w.widened_norms.reserve(2 * s.n_layers + 1);  // pointers into it must stay valid
  HELIX_BIND(w.token_embedding, bind_matrix(file, "token_embd.weight", s.vocab_size, s.hidden_dim));
  for (int64_t l = 0; l < s.n_layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    LayerWeights lw{};
    HELIX_BIND(lw.attn_norm, bind_vector(file, p + "attn_norm.weight", s.hidden_dim, w));
    HELIX_BIND(lw.wq, bind_matrix(file, p + "attn_q.weight", q_dim, s.hidden_dim));
    HELIX_BIND(lw.wk, bind_matrix(file, p + "attn_k.weight", kv_dim, s.hidden_dim));
    HELIX_BIND(lw.wv, bind_matrix(file, p + "attn_v.weight", kv_dim, s.hidden_dim));
    HELIX_BIND(lw.wo, bind_matrix(file, p + "attn_output.weight", s.hidden_dim, q_dim));
    HELIX_BIND(lw.ffn_norm, bind_vector(file, p + "ffn_norm.weight", s.hidden_dim, w));
    HELIX_BIND(lw.w_gate, bind_matrix(file, p + "ffn_gate.weight", s.ffn_dim, s.hidden_dim));
    HELIX_BIND(lw.w_up, bind_matrix(file, p + "ffn_up.weight", s.ffn_dim, s.hidden_dim));
    HELIX_BIND(lw.w_down, bind_matrix(file, p + "ffn_down.weight", s.hidden_dim, s.ffn_dim));
    w.layers.push_back(lw);
  }
  HELIX_BIND(w.output_norm, bind_vector(file, "output_norm.weight", s.hidden_dim, w));
  if (file.find("output.weight") != nullptr)
    HELIX_BIND(w.classifier, bind_matrix(file, "output.weight", s.vocab_size, s.hidden_dim));
  else
    w.classifier = w.token_embedding;  // tied
  return w;
}

#undef HELIX_BIND

int64_t Weights::total_matrix_bytes() const {
  int64_t total = matrix_bytes(token_embedding);
  for (const auto& l : layers)
    for (const WeightMatrix* m : l.matrices()) total += matrix_bytes(*m);
  if (classifier.data != token_embedding.data) total += matrix_bytes(classifier);
  return total;
}

std::vector<std::span<const std::byte>> Weights::token_read_spans() const {
  std::vector<std::span<const std::byte>> spans;
  const auto add = [&](const WeightMatrix& m) {
    const int64_t prepacked = m.prepacked != nullptr ? prepacked_bytes(m, m.prepacked_isa) : 0;
    const void* data = prepacked > 0 ? m.prepacked : m.data;
    const int64_t bytes = prepacked > 0 ? prepacked : matrix_bytes(m);
    spans.emplace_back(static_cast<const std::byte*>(data), static_cast<size_t>(bytes));
  };
  for (const auto& l : layers)
    for (const WeightMatrix* m : l.matrices()) add(*m);
  add(classifier);
  spans.emplace_back(static_cast<const std::byte*>(token_embedding.data),
                     static_cast<size_t>(dtype_bytes_for(token_embedding.dtype, token_embedding.cols)));
  return spans;
}

int64_t Weights::bytes_read_per_token() const {
  // Every layer matrix and the classifier once; of the embedding only one row.
  int64_t total = matrix_bytes(classifier) + dtype_bytes_for(token_embedding.dtype, token_embedding.cols);
  for (const auto& l : layers)
    for (const WeightMatrix* m : l.matrices()) total += matrix_bytes(*m);
  return total;
}

}  // namespace helix
