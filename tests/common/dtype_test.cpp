#include "common/dtype.h"

#include <gtest/gtest.h>

namespace helix {
namespace {

TEST(DType, SizesAndGgmlIds) {
  EXPECT_EQ(dtype_bytes_for(DType::F32, 64), 256);
  EXPECT_EQ(dtype_bytes_for(DType::F16, 64), 128);
  EXPECT_EQ(dtype_bytes_for(DType::BF16, 64), 128);
  EXPECT_EQ(dtype_bytes_for(DType::Q8_0, 64), 68);   // 2 blocks of 34
  EXPECT_EQ(dtype_bytes_for(DType::Q4_0, 64), 36);   // 2 blocks of 18
  EXPECT_EQ(dtype_bytes_for(DType::Q4_K, 512), 288);  // 2 super-blocks of 144
  EXPECT_EQ(dtype_bytes_for(DType::Q6_K, 256), 210);
  EXPECT_EQ(*dtype_from_ggml_type(8), DType::Q8_0);
  EXPECT_EQ(*dtype_from_ggml_type(30), DType::BF16);
  EXPECT_FALSE(dtype_from_ggml_type(99).has_value());
}

TEST(DType, ParseNames) {
  EXPECT_EQ(*parse_dtype("f16"), DType::F16);
  EXPECT_EQ(*parse_dtype("Q8_0"), DType::Q8_0);
  EXPECT_FALSE(parse_dtype("fp8").has_value());
  EXPECT_TRUE(is_kv_dtype(DType::Q8_0));
  EXPECT_FALSE(is_kv_dtype(DType::Q4_K));
}

}  // namespace
}  // namespace helix
