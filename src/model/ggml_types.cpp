// Block sizes of the ggml tensor types (ids from ggml.h; sizes from the ggml block structs).
#include <array>

#include <fmt/format.h>

#include "model/gguf_reader.h"

namespace helix {
namespace {

constexpr int64_t kQK = 256;  // values per k-quant super-block

// Ids 4, 5 and 31-33, 36-38 were removed from ggml and never appear in current files.
constexpr std::array<GgmlTypeInfo, 32> kGgmlTypes = {{
    {0, "f32", 1, 4},
    {1, "f16", 1, 2},
    {2, "q4_0", 32, 2 + 16},
    {3, "q4_1", 32, 2 + 2 + 16},
    {6, "q5_0", 32, 2 + 4 + 16},
    {7, "q5_1", 32, 2 + 2 + 4 + 16},
    {8, "q8_0", 32, 2 + 32},
    {9, "q8_1", 32, 2 + 2 + 32},
    {10, "q2_k", kQK, 2 + 2 + kQK / 16 + kQK / 4},
    {11, "q3_k", kQK, 2 + kQK / 4 + kQK / 8 + 12},
    {12, "q4_k", kQK, 2 + 2 + kQK / 2 + 12},
    {13, "q5_k", kQK, 2 + 2 + kQK / 2 + kQK / 8 + 12},
    {14, "q6_k", kQK, 2 + kQK / 2 + kQK / 4 + kQK / 16},
    {15, "q8_k", kQK, 4 + kQK + kQK / 8},
    {16, "iq2_xxs", kQK, 2 + kQK / 4},
    {17, "iq2_xs", kQK, 2 + kQK / 4 + kQK / 32},
    {18, "iq3_xxs", kQK, 2 + kQK / 4 + kQK / 8},
    {19, "iq1_s", kQK, 2 + kQK / 8 + kQK / 16},
    {20, "iq4_nl", 32, 2 + 16},
    {21, "iq3_s", kQK, 2 + kQK / 4 + kQK / 8 + kQK / 32 + 4},
    {22, "iq2_s", kQK, 2 + kQK / 4 + kQK / 16},
    {23, "iq4_xs", kQK, 2 + 2 + kQK / 2 + kQK / 64},
    {24, "i8", 1, 1},
    {25, "i16", 1, 2},
    {26, "i32", 1, 4},
    {27, "i64", 1, 8},
    {28, "f64", 1, 8},
    {29, "iq1_m", kQK, kQK / 8 + kQK / 16 + kQK / 32},
    {30, "bf16", 1, 2},
    {34, "tq1_0", kQK, 2 + 4 * 13},
    {35, "tq2_0", kQK, 2 + 64},
    {39, "mxfp4", 32, 1 + 16},
}};

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t ggml_type) {
  for (const auto& info : kGgmlTypes)
    if (info.id == ggml_type) return &info;
  return nullptr;
}

std::string ggml_type_name(uint32_t ggml_type) {
  if (const GgmlTypeInfo* info = ggml_type_info(ggml_type)) return std::string(info->name);
  return fmt::format("type {}", ggml_type);
}

}  // namespace helix
