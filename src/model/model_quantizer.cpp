#include "model/model_quantizer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "kernels/dequantize.h"
#include "kernels/quantize.h"
#include "model/gguf_writer.h"
#include "model/sampler.h"

namespace helix {
namespace {

int64_t scalar_bytes(GgufType type) {
  switch (type) {
    case GgufType::UINT8: case GgufType::INT8: case GgufType::BOOL: return 1;
    case GgufType::UINT16: case GgufType::INT16: return 2;
    case GgufType::UINT32: case GgufType::INT32: case GgufType::FLOAT32: return 4;
    case GgufType::UINT64: case GgufType::INT64: case GgufType::FLOAT64: return 8;
    default: return 0;
  }
}

// Copies one metadata entry of a GGUF file into the writer, whatever its type (arrays of arrays excepted).
Status copy_entry(const GgufFile& file, const GgufMetadataEntry& e, GgufWriter& w) {
  const GgufValue& v = e.value;
  switch (v.type) {
    case GgufType::UINT8: w.add_uint8(e.key, static_cast<uint8_t>(v.int_value)); return {};
    case GgufType::INT8: w.add_int8(e.key, static_cast<int8_t>(v.int_value)); return {};
    case GgufType::UINT16: w.add_uint16(e.key, static_cast<uint16_t>(v.int_value)); return {};
    case GgufType::INT16: w.add_int16(e.key, static_cast<int16_t>(v.int_value)); return {};
    case GgufType::UINT32: w.add_uint32(e.key, static_cast<uint32_t>(v.int_value)); return {};
    case GgufType::INT32: w.add_int32(e.key, static_cast<int32_t>(v.int_value)); return {};
    case GgufType::UINT64: w.add_uint64(e.key, v.uint_value); return {};
    case GgufType::INT64: w.add_int64(e.key, v.int_value); return {};
    case GgufType::FLOAT32: w.add_float32(e.key, static_cast<float>(v.float_value)); return {};
    case GgufType::FLOAT64: w.add_float64(e.key, v.float_value); return {};
    case GgufType::BOOL: w.add_bool(e.key, v.bool_value); return {};
    case GgufType::STRING: w.add_string(e.key, v.string_value); return {};
    case GgufType::ARRAY: break;
  }
  if (v.array_type == GgufType::STRING) {
    auto strings = file.get_string_array(e.key);
    HELIX_TRY(strings);
    w.add_string_array(e.key, std::vector<std::string>(strings->begin(), strings->end()));
    return {};
  }
  const int64_t size = scalar_bytes(v.array_type);
  if (size == 0) return errorf("{}: {}: arrays of {} are not copied", file.path(), e.key, gguf_type_name(v.array_type));
  std::vector<uint8_t> bytes(v.array_data, v.array_data + size * static_cast<int64_t>(v.array_size));
  w.add_array(e.key, v.array_type, v.array_size, std::move(bytes));
  return {};
}

void add_spm_tokenizer(const Tokenizer& tok, GgufWriter& w) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    tokens.push_back(tok.token_text(id));
    scores.push_back(tok.token_score(id));
    types.push_back(static_cast<int32_t>(tok.token_type(id)));
  }
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_float_array("tokenizer.ggml.scores", scores);
  w.add_int32_array("tokenizer.ggml.token_type", types);
  if (tok.bos_id() >= 0) w.add_uint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tok.bos_id()));
  if (tok.eos_id() >= 0) w.add_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tok.eos_id()));
  if (tok.unk_id() >= 0) w.add_uint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(tok.unk_id()));
  w.add_bool("tokenizer.ggml.add_bos_token", tok.add_bos_default());
}

}  // namespace

Status QuantizeOptions::validate() const {
  switch (weight_type) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0: case DType::Q4_K:
    case DType::Q6_K:
      break;
    default:
      return make_error(fmt::format("--type: cannot store weights as {}", dtype_name(weight_type)), "type");
  }
  if (!std::isfinite(noise) || noise < 0.0f || noise > 10.0f)
    return make_error(fmt::format("--noise: must be in [0, 10], got {}", noise), "noise");
  return {};
}

Status write_quantized_model(const ModelFile& source, const Tokenizer* tokenizer, const QuantizeOptions& options,
                             const std::string& path) {
  HELIX_TRY(options.validate());
  const ModelShape& shape = source.shape;
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", shape.name);
  w.add_uint32("general.file_type", dtype_info(options.weight_type).ggml_type);
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
  if (source.gguf) {
    for (const GgufMetadataEntry& e : source.gguf->metadata())
      if (e.key.rfind("tokenizer.", 0) == 0) HELIX_TRY(copy_entry(*source.gguf, e, w));
  } else if (tokenizer != nullptr) {
    if (tokenizer->kind() != TokenizerKind::kSentencePiece)
      return errorf("{}: only a SentencePiece tokenizer can be written for a llama2.c checkpoint", source.path);
    if (tokenizer->vocab_size() != shape.vocab_size)
      return errorf("tokenizer has {} tokens, {} has {}", tokenizer->vocab_size(), source.path, shape.vocab_size);
    add_spm_tokenizer(*tokenizer, w);
  }

  for (const TensorView& t : source.tensors) {
    if (t.dims.size() != 2) {  // norms: f32, as converters store them
      const int64_t n = t.n_elements();
      std::vector<float> values(n);
      if (dtype_info(t.dtype).block_values > 1 && n % dtype_info(t.dtype).block_values != 0)
        return errorf("{}: {} values are not whole {} blocks", t.name, n, dtype_name(t.dtype));
      dequantize_row(t.dtype, t.data, values.data(), n);
      std::vector<uint8_t> bytes(n * sizeof(float));
      std::memcpy(bytes.data(), values.data(), bytes.size());
      HELIX_TRY(w.add_tensor(t.name, DType::F32, t.dims, std::move(bytes)));
      continue;
    }
    const int64_t cols = t.dims[0], rows = t.dims[1];
    const DType type = cols % dtype_info(options.weight_type).block_values == 0 ? options.weight_type : DType::F16;
    const TensorView* view = &t;
    const QuantizeOptions o = options;
    HELIX_TRY(w.add_tensor_deferred(t.name, type, t.dims, [view, type, o, rows, cols]() -> Result<std::vector<uint8_t>> {
      std::vector<float> values(rows * cols);
      const int64_t src_row_bytes = dtype_bytes_for(view->dtype, cols);
      for (int64_t r = 0; r < rows; ++r)
        dequantize_row(view->dtype, view->data + r * src_row_bytes, &values[r * cols], cols);
      if (o.noise > 0.0f) {
        double sum_sq = 0.0;
        for (float x : values) sum_sq += static_cast<double>(x) * x;
        const double rms = std::sqrt(sum_sq / static_cast<double>(values.size()));
        const double half_width = std::sqrt(3.0) * o.noise * rms;  // uniform on [-a, a] has stddev a / sqrt(3)
        uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name: each tensor its own noise
        for (unsigned char c : view->name) h = (h ^ c) * 0x100000001b3ull;
        Rng rng(o.seed ^ h);
        for (float& x : values) x += static_cast<float>((2.0 * rng.uniform() - 1.0) * half_width);
      }
      std::vector<uint8_t> bytes(dtype_bytes_for(type, rows * cols));
      const int64_t row_bytes = dtype_bytes_for(type, cols);
      for (int64_t r = 0; r < rows; ++r) quantize_row(type, &values[r * cols], &bytes[r * row_bytes], cols);
      return bytes;
    }));
  }
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return w.write(path);
}

}  // namespace helix
