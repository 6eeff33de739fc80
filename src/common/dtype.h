// Element types of tensors and KV caches, with their exact storage sizes.
// Quantized types store values in blocks: q8_0 = 32 int8 + one f16 scale = 34 bytes per 32 values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace helix {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K };

struct DTypeInfo {
  DType dtype;
  std::string_view name;     // "f32", "q8_0", ...
  int64_t block_values;      // values per block (1 for plain types)
  int64_t block_bytes;       // bytes per block
  uint32_t ggml_type;        // the id GGUF files use
};

const DTypeInfo& dtype_info(DType dtype);
std::string_view dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view name);          // "f16", "Q8_0" (case-insensitive)
std::optional<DType> dtype_from_ggml_type(uint32_t ggml_type);

// Exact bytes for `count` values; count must be a multiple of the block size.
int64_t dtype_bytes_for(DType dtype, int64_t count);

// Whether a KV cache may be stored in this type.
bool is_kv_dtype(DType dtype);

}  // namespace helix
