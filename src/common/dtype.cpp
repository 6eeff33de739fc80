#include "common/dtype.h"

#include <array>
#include <cctype>
#include <string>

#include "common/result.h"

namespace helix {
namespace {

// ggml type ids from the GGUF specification.
constexpr std::array<DTypeInfo, 7> kDTypes = {{
    {DType::F32, "f32", 1, 4, 0},
    {DType::F16, "f16", 1, 2, 1},
    {DType::BF16, "bf16", 1, 2, 30},
    {DType::Q8_0, "q8_0", 32, 34, 8},
    {DType::Q4_0, "q4_0", 32, 18, 2},
    {DType::Q4_K, "q4_k", 256, 144, 12},
    {DType::Q6_K, "q6_k", 256, 210, 14},
}};

constexpr bool order_matches_enum() {
  for (size_t i = 0; i < kDTypes.size(); ++i)
    if (static_cast<size_t>(kDTypes[i].dtype) != i) return false;
  return true;
}
static_assert(order_matches_enum(), "kDTypes must be indexed by DType");

}  // namespace

const DTypeInfo& dtype_info(DType dtype) { return kDTypes[static_cast<size_t>(dtype)]; }

std::string_view dtype_name(DType dtype) { return dtype_info(dtype).name; }

std::optional<DType> parse_dtype(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& info : kDTypes)
    if (info.name == lower) return info.dtype;
  return std::nullopt;
}

std::optional<DType> dtype_from_ggml_type(uint32_t ggml_type) {
  for (const auto& info : kDTypes)
    if (info.ggml_type == ggml_type) return info.dtype;
  return std::nullopt;
}

int64_t dtype_bytes_for(DType dtype, int64_t count) {
  const auto& info = dtype_info(dtype);
  HELIX_CHECK(count % info.block_values == 0, "{} values of {} are not whole blocks of {}", count, info.name,
              info.block_values);
  return count / info.block_values * info.block_bytes;
}

bool is_kv_dtype(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::Q8_0;
}

}  // namespace helix
