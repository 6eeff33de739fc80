#include "model/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/fp16.h"
#include "model_test_files.h"
#include "test_util.h"

namespace helix {
namespace {

using test::TempDir;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

TEST(GgufWriter, RoundTripsEveryValueTypeAndTensor) {
  TempDir dir;
  GgufWriter w;
  w.add_uint8("u8", 250);
  w.add_int8("i8", -120);
  w.add_uint16("u16", 65000);
  w.add_int16("i16", -32000);
  w.add_uint32("u32", 4000000000u);
  w.add_int32("i32", -2000000000);
  w.add_uint64("u64", uint64_t{1} << 40);
  w.add_int64("i64", -(int64_t{1} << 50));
  w.add_float32("f32", 0.25f);
  w.add_float64("f64", -1.0e300);
  w.add_bool("yes", true);
  w.add_bool("no", false);
  w.add_string("s", "h\xc3\xa9llo");
  w.add_string("empty", "");
  w.add_string_array("strings", {"a", "", "ccc"});
  w.add_float_array("floats", {1.5f, -2.0f});
  w.add_int32_array("ints", {-1, 0, 7});
  w.add_array("bytes", GgufType::UINT8, 3, {9, 8, 7});
  // An array of two arrays: [1, 2] (uint16) and ["x"].
  std::vector<uint8_t> inner_a = {1, 0, 2, 0};
  std::vector<uint8_t> inner_b;
  GgufWriter::append_string(inner_b, "x");
  std::vector<uint8_t> nested = GgufWriter::encode_array(GgufType::UINT16, 2, inner_a);
  const auto b = GgufWriter::encode_array(GgufType::STRING, 1, inner_b);
  nested.insert(nested.end(), b.begin(), b.end());
  w.add_array("nested", GgufType::ARRAY, 2, nested);
  w.add_uint32("u32", 3000000000u);  // replaces the earlier value in place

  const auto f32 = test::f32_bytes(6, 1.0f);
  ASSERT_TRUE(w.add_tensor("a", DType::F32, {3, 2}, f32));
  std::vector<uint8_t> f16(2 * 5);
  for (int i = 0; i < 5; ++i) {
    const uint16_t h = f32_to_fp16(static_cast<float>(i));
    std::memcpy(f16.data() + 2 * i, &h, 2);
  }
  ASSERT_TRUE(w.add_tensor("b", DType::F16, {5}, f16));
  ASSERT_TRUE(w.add_tensor("c", DType::Q8_0, {32, 2}, std::vector<uint8_t>(68, 3)));
  ASSERT_TRUE(w.add_tensor("d", DType::Q4_K, {256}, std::vector<uint8_t>(144, 4)));
  ASSERT_TRUE(w.add_tensor_ggml("e", 13, {256}, std::vector<uint8_t>(176, 5)));  // q5_k

  const std::string path = dir.file("all.gguf");
  ASSERT_TRUE(w.write(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes);
  EXPECT_EQ(read_all(path), *bytes);  // write() and to_bytes() agree

  auto r = GgufFile::open(path);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version(), 3u);
  EXPECT_EQ(r->metadata().size(), 19u);
  EXPECT_EQ(r->metadata()[4].key, "u32");
  EXPECT_EQ(*r->get_int("u8"), 250);
  EXPECT_EQ(*r->get_int("i8"), -120);
  EXPECT_EQ(*r->get_int("u16"), 65000);
  EXPECT_EQ(*r->get_int("i16"), -32000);
  EXPECT_EQ(*r->get_int("u32"), 3000000000);
  EXPECT_EQ(*r->get_int("i32"), -2000000000);
  EXPECT_EQ(*r->get_int("u64"), int64_t{1} << 40);
  EXPECT_EQ(*r->get_int("i64"), -(int64_t{1} << 50));
  EXPECT_EQ(*r->get_float("f32"), 0.25);
  EXPECT_EQ(*r->get_float("f64"), -1.0e300);
  EXPECT_TRUE(*r->get_bool("yes"));
  EXPECT_FALSE(*r->get_bool("no"));
  EXPECT_EQ(*r->get_string("s"), "h\xc3\xa9llo");
  EXPECT_EQ(*r->get_string("empty"), "");
  EXPECT_EQ(*r->get_string_array("strings"), (std::vector<std::string_view>{"a", "", "ccc"}));
  EXPECT_EQ(*r->get_float_array("floats"), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(*r->get_int_array("ints"), (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(*r->get_int_array("bytes"), (std::vector<int64_t>{9, 8, 7}));
  EXPECT_EQ(r->find("nested")->array_type, GgufType::ARRAY);
  EXPECT_EQ(r->find("nested")->array_size, 2u);
  EXPECT_EQ(r->find("f32")->type, GgufType::FLOAT32);
  EXPECT_EQ(r->find("i16")->type, GgufType::INT16);

  ASSERT_EQ(r->tensors().size(), 5u);
  // Data offsets: a 24 B -> 0, b 10 B -> 32, c 68 B -> 64, d 144 B -> 160, e 176 B -> 320.
  const std::vector<uint64_t> offsets = {0, 32, 64, 160, 320};
  const std::vector<std::vector<uint8_t>> data = {f32, f16, std::vector<uint8_t>(68, 3),
                                                  std::vector<uint8_t>(144, 4), std::vector<uint8_t>(176, 5)};
  for (size_t i = 0; i < 5; ++i) {
    const GgufTensorInfo& t = r->tensors()[i];
    SCOPED_TRACE(t.name);
    EXPECT_EQ(t.offset, offsets[i]);
    ASSERT_EQ(t.n_bytes, static_cast<int64_t>(data[i].size()));
    EXPECT_EQ(std::memcmp(r->tensor_data(t), data[i].data(), data[i].size()), 0);
  }
  EXPECT_EQ(r->tensors()[0].dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r->tensors()[1].dtype, DType::F16);
  EXPECT_EQ(r->tensors()[2].dtype, DType::Q8_0);
  EXPECT_EQ(r->tensors()[3].dtype, DType::Q4_K);
  EXPECT_FALSE(r->tensors()[4].dtype.has_value());
  EXPECT_EQ(r->data_offset() % 32, 0u);
  // The last tensor is padded to the alignment: 320 + 176 = 496 -> 512.
  EXPECT_EQ(r->file_size(), r->data_offset() + 512);
}

TEST(GgufWriter, HonoursGeneralAlignment) {
  GgufWriter w;
  w.add_uint32("general.alignment", 64);
  EXPECT_EQ(w.alignment(), 64u);
  ASSERT_TRUE(w.add_tensor("a", DType::F32, {3}, test::f32_bytes(3, 0)));
  ASSERT_TRUE(w.add_tensor("b", DType::F32, {3}, test::f32_bytes(3, 9)));
  TempDir dir;
  ASSERT_TRUE(w.write(dir.file("a.gguf")));
  auto r = GgufFile::open(dir.file("a.gguf"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->alignment(), 64u);
  EXPECT_EQ(r->data_offset() % 64, 0u);
  EXPECT_EQ(r->tensors()[1].offset, 64u);

  GgufWriter bad;
  bad.add_uint32("general.alignment", 24);
  auto bytes = bad.to_bytes();
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().message, "general.alignment: 24 is not a power of two");
}

TEST(GgufWriter, RefusesInconsistentTensors) {
  GgufWriter w;
  auto wrong_size = w.add_tensor("a", DType::F32, {4}, std::vector<uint8_t>(15));
  ASSERT_FALSE(wrong_size);
  EXPECT_EQ(wrong_size.error().message, "a: [4] f32 needs 16 bytes, got 15");
  auto partial_block = w.add_tensor("q", DType::Q8_0, {16}, std::vector<uint8_t>(17));
  ASSERT_FALSE(partial_block);
  EXPECT_EQ(partial_block.error().message, "q: rows of 16 values are not whole q8_0 blocks of 32");
  auto zero = w.add_tensor("z", DType::F32, {0}, {});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "z: bad dims [0]");
  auto unknown = w.add_tensor_ggml("u", 99, {1}, std::vector<uint8_t>(1));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "u: unknown ggml tensor type 99");
  ASSERT_TRUE(w.add_tensor("a", DType::F32, {4}, std::vector<uint8_t>(16)));
  auto dup = w.add_tensor("a", DType::F32, {4}, std::vector<uint8_t>(16));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "a: duplicate tensor name");
  EXPECT_EQ(w.tensor_count(), 1u);
}

// Re-encodes one parsed value through the writer's typed calls.
void copy_value(GgufWriter& w, const std::string& key, const GgufValue& v) {
  switch (v.type) {
    case GgufType::UINT8: w.add_uint8(key, static_cast<uint8_t>(v.int_value)); break;
    case GgufType::INT8: w.add_int8(key, static_cast<int8_t>(v.int_value)); break;
    case GgufType::UINT16: w.add_uint16(key, static_cast<uint16_t>(v.int_value)); break;
    case GgufType::INT16: w.add_int16(key, static_cast<int16_t>(v.int_value)); break;
    case GgufType::UINT32: w.add_uint32(key, static_cast<uint32_t>(v.int_value)); break;
    case GgufType::INT32: w.add_int32(key, static_cast<int32_t>(v.int_value)); break;
    case GgufType::UINT64: w.add_uint64(key, v.uint_value); break;
    case GgufType::INT64: w.add_int64(key, v.int_value); break;
    case GgufType::FLOAT32: w.add_float32(key, static_cast<float>(v.float_value)); break;
    case GgufType::FLOAT64: w.add_float64(key, v.float_value); break;
    case GgufType::BOOL: w.add_bool(key, v.bool_value); break;
    case GgufType::STRING: w.add_string(key, v.string_value); break;
    case GgufType::ARRAY: {
      uint64_t n = 0;
      if (v.array_type == GgufType::STRING) {
        const uint8_t* p = v.array_data;
        for (uint64_t i = 0; i < v.array_size; ++i) {
          uint64_t len;
          std::memcpy(&len, p, 8);
          p += 8 + len;
        }
        n = static_cast<uint64_t>(p - v.array_data);
      } else {
        ASSERT_TRUE(v.array_type == GgufType::FLOAT32 || v.array_type == GgufType::INT32);
        n = v.array_size * 4;
      }
      w.add_array(key, v.array_type, v.array_size, std::vector<uint8_t>(v.array_data, v.array_data + n));
      break;
    }
  }
}

// Rebuilding stories260K.gguf (written by llama.cpp's converter) through this writer gives the same bytes:
// the layout, padding and alignment match what llama.cpp writes and reads.
TEST(GgufWriter, RewritesStories260KByteForByte) {
  const std::string src = test::shared_path("models/stories260K/stories260K.gguf");
  auto r = GgufFile::open(src);
  ASSERT_TRUE(r) << r.error().message;
  GgufWriter w;
  for (const auto& e : r->metadata()) copy_value(w, e.key, e.value);
  for (const auto& t : r->tensors()) {
    const uint8_t* p = r->tensor_data(t);
    ASSERT_TRUE(w.add_tensor(t.name, *t.dtype, t.dims, std::vector<uint8_t>(p, p + t.n_bytes)));
  }
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes);
  const std::vector<uint8_t> original = read_all(src);
  ASSERT_EQ(bytes->size(), original.size());
  EXPECT_TRUE(*bytes == original);
}

}  // namespace
}  // namespace helix
