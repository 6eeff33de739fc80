#include "model/gguf_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "model/model_file.h"
#include "model_test_files.h"
#include "test_util.h"

namespace helix {
namespace {

using test::Bytes;
using test::TempDir;

constexpr uint64_t k2Pow62 = uint64_t{1} << 62;
constexpr uint32_t kU32 = static_cast<uint32_t>(GgufType::UINT32);
constexpr uint32_t kStr = static_cast<uint32_t>(GgufType::STRING);
constexpr uint32_t kArr = static_cast<uint32_t>(GgufType::ARRAY);

// Opens `bytes` written to a temporary file; returns the error message ("" on success).
struct Opened {
  std::string path;
  Result<GgufFile> file;
};

Opened open_bytes(const TempDir& dir, const std::vector<uint8_t>& bytes, const std::string& name = "t.gguf") {
  const std::string path = dir.file(name);
  test::write_bytes(path, bytes);
  return Opened{path, GgufFile::open(path)};
}

std::string error_of(const Opened& o) { return o.file ? std::string() : o.file.error().message; }

// Every failure names the file first.
void expect_error(const Opened& o, const std::string& fragment) {
  ASSERT_FALSE(o.file.has_value()) << "expected an error containing: " << fragment;
  const std::string& m = o.file.error().message;
  EXPECT_EQ(m.rfind(o.path + ": ", 0), 0u) << m;
  EXPECT_NE(m.find(fragment), std::string::npos) << m;
}

TEST(GgufReader, OpensStories260K) {
  auto f = GgufFile::open(test::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->file_size(), 1185376u);
  // The tensor table ends at byte 14152 (read with a separate script); aligned up to 32 that is 14176.
  EXPECT_EQ(f->data_offset(), 14176u);
  EXPECT_EQ(f->metadata().size(), 19u);
  ASSERT_EQ(f->tensors().size(), 48u);  // 5 layers x 9 + token_embd, output_norm, output

  const GgufTensorInfo* embd = f->find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(embd->ggml_type, 0u);
  EXPECT_EQ(embd->dtype, DType::F32);
  EXPECT_EQ(embd->offset, 0u);
  EXPECT_EQ(embd->n_elements, 64 * 512);
  EXPECT_EQ(embd->n_bytes, 64 * 512 * 4);
  const GgufTensorInfo* down = f->find_tensor("blk.4.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->dims, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(down->offset, 1082880u);
  // The last tensor ends the file: 14176 + 1170944 + 64 * 4 = 1185376.
  const GgufTensorInfo& last = f->tensors().back();
  EXPECT_EQ(last.name, "blk.4.ffn_norm.weight");
  EXPECT_EQ(f->data_offset() + last.offset + last.n_bytes, f->file_size());

  auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens);
  ASSERT_EQ(tokens->size(), 512u);
  EXPECT_EQ((*tokens)[0], "<unk>");
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[2], "</s>");
  EXPECT_EQ((*tokens)[13], "<0x0A>");
  auto scores = f->get_float_array("tokenizer.ggml.scores");
  ASSERT_TRUE(scores);
  EXPECT_EQ(scores->size(), 512u);
  auto types = f->get_int_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types);
  EXPECT_EQ((*types)[0], 2);  // unknown
  EXPECT_EQ((*types)[1], 3);  // control
  EXPECT_EQ(*f->get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(*f->get_int("tokenizer.ggml.seperator_token_id"), 4294967295);  // uint32 -1 kept unsigned
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_EQ(*f->get_float("llama.attention.layer_norm_rms_epsilon"), static_cast<double>(1e-5f));
  EXPECT_EQ(*f->get_float("llama.block_count"), 5.0);  // integers are accepted as numbers

  auto wrong = f->get_int("general.architecture");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("stories260K.gguf: metadata key 'general.architecture': expected an integer, "
                                       "got string"),
            std::string::npos)
      << wrong.error().message;
  auto missing = f->get_bool("no.such.key");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("metadata key 'no.such.key': missing"), std::string::npos);
}

TEST(GgufReader, ShapeOfStories260K) {
  auto f = GgufFile::open(test::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(f);
  auto s = shape_from_gguf(*f);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "stories260K");
  EXPECT_EQ(s->n_layers, 5);
  EXPECT_EQ(s->n_heads, 8);
  EXPECT_EQ(s->n_kv_heads, 4);
  EXPECT_EQ(s->head_dim, 8);  // 64 / 8
  EXPECT_EQ(s->hidden_dim, 64);
  EXPECT_EQ(s->ffn_dim, 172);
  EXPECT_EQ(s->vocab_size, 512);
  EXPECT_EQ(s->context_length, 2048);  // the GGUF says 2048; the model was trained with 512
  EXPECT_EQ(s->rope_freq_base, 10000.0f);  // no llama.rope.freq_base key: the default
  EXPECT_EQ(s->rms_norm_eps, 1e-5f);
  EXPECT_FALSE(s->tied_embeddings);  // the file stores output.weight (a copy of token_embd)
  EXPECT_EQ(s->kv_dtype, DType::F16);
  EXPECT_EQ(s->kv_bytes_per_token(), 640);  // 5 layers * 2 * 4 KV heads * 8 * 2 bytes
}

TEST(GgufReader, VocabOnlyFilesLoad) {
  auto spm = GgufFile::open(test::shared_path("models/tokenizers/llama-spm-gguf/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(spm) << spm.error().message;
  EXPECT_TRUE(spm->tensors().empty());
  EXPECT_EQ(spm->file_size(), 723869u);
  EXPECT_GT(spm->data_offset(), spm->file_size());  // 723869 aligned up to 32 = 723872
  EXPECT_EQ(spm->data_offset(), 723872u);
  EXPECT_EQ(spm->get_string_array("tokenizer.ggml.tokens")->size(), 32000u);
  EXPECT_TRUE(*spm->get_bool("tokenizer.ggml.add_bos_token"));
  auto s = shape_from_gguf(*spm);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->n_layers, 32);
  EXPECT_EQ(s->n_kv_heads, 32);
  EXPECT_EQ(s->head_dim, 128);
  EXPECT_EQ(s->vocab_size, 32000);
  EXPECT_EQ(s->context_length, 4096);

  const std::string gpt2_path = test::shared_path("models/tokenizers/gpt2-bpe-gguf/ggml-vocab-gpt-2.gguf");
  auto gpt2 = GgufFile::open(gpt2_path);
  ASSERT_TRUE(gpt2) << gpt2.error().message;
  EXPECT_EQ(gpt2->get_string_array("tokenizer.ggml.merges")->size(), 50000u);
  EXPECT_EQ(gpt2->get_string_array("tokenizer.ggml.tokens")->size(), 50257u);
  auto shape = shape_from_gguf(*gpt2);
  ASSERT_FALSE(shape);
  EXPECT_EQ(shape.error().message, gpt2_path + ": unsupported architecture 'gpt2' (Helix runs 'llama')");
}

TEST(GgufReader, TinyWriterFileParses) {
  TempDir dir;
  auto o = open_bytes(dir, test::tiny_llama_bytes());
  ASSERT_TRUE(o.file) << error_of(o);
  EXPECT_EQ(o.file->tensors().size(), 11u);
  auto s = shape_from_gguf(*o.file);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->head_dim, 4);
  EXPECT_EQ(s->vocab_size, 4);
  EXPECT_TRUE(s->tied_embeddings);
}

TEST(GgufReader, BadMagicAndVersions) {
  TempDir dir;
  Bytes bad = Bytes::gguf(3, 0, 0);
  bad.b[3] = 'X';
  expect_error(open_bytes(dir, bad.b), "not a GGUF file (bad magic)");
  expect_error(open_bytes(dir, Bytes::gguf(0, 0, 0).b), "unsupported GGUF version 0");
  expect_error(open_bytes(dir, Bytes::gguf(99, 0, 0).b), "unsupported GGUF version 99");
  expect_error(open_bytes(dir, Bytes::gguf(1, 0, 0).b), "GGUF v1 is not supported");
  expect_error(open_bytes(dir, Bytes::gguf(0x03000000, 0, 0).b), "(a big-endian file?)");
  expect_error(open_bytes(dir, {}), "truncated: magic needs 4 bytes at offset 0, file has 0");
  // v2 has the same layout as v3.
  auto v2 = open_bytes(dir, Bytes::gguf(2, 0, 0).b);
  EXPECT_TRUE(v2.file) << error_of(v2);
}

TEST(GgufReader, TruncationMessageNamesKeyOffsetAndSize) {
  TempDir dir;
  // Header 24 bytes, key length 8 (to 32), key 20 (to 52), type 4 (to 56), string length 8 (to 64),
  // then the 5 bytes of "llama" are needed at offset 64 but only 2 are there (file of 66 bytes).
  Bytes x = Bytes::gguf(3, 0, 1);
  x.str("general.architecture").u32(kStr).u64(5).raw("ll");
  auto o = open_bytes(dir, x.b);
  ASSERT_FALSE(o.file);
  EXPECT_EQ(o.file.error().message,
            o.path + ": truncated: metadata key 0 ('general.architecture') needs a string of 5 bytes at offset 64, "
                     "file has 66");
}

// Parsed from memory: each prefix is its own heap block of exactly n bytes, so AddressSanitizer catches
// any read past the end (a mapping would hide reads up to the page end).
TEST(GgufReader, TruncatedAtEveryOffsetFailsCleanly) {
  const std::vector<uint8_t> full = test::tiny_llama_bytes();
  ASSERT_GT(full.size(), 1000u);
  const std::string name = "tiny.gguf";
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("truncated to " + std::to_string(n) + " bytes");
    const std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = GgufFile::parse(name, cut.data(), cut.size());
    ASSERT_FALSE(f);
    ASSERT_EQ(f.error().message.rfind(name + ": ", 0), 0u) << f.error().message;
    auto m = parse_model_file(name, cut.data(), cut.size());
    ASSERT_FALSE(m);
    ASSERT_EQ(m.error().message.rfind(name + ": ", 0), 0u) << m.error().message;
  }
  auto f = GgufFile::parse(name, full.data(), full.size());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->mapping(), nullptr);
  EXPECT_EQ(f->file_size(), full.size());
  auto m = parse_model_file(name, full.data(), full.size());
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->file_bytes, static_cast<int64_t>(full.size()));
  EXPECT_EQ(m->tensors.size(), 11u);
}

TEST(GgufReader, AbsurdCountsAreRefusedBeforeAllocating) {
  TempDir dir;
  expect_error(open_bytes(dir, Bytes::gguf(3, uint64_t{1} << 60, 0).b), "tensor count 1152921504606846976 is absurd");
  expect_error(open_bytes(dir, Bytes::gguf(3, 0, ~uint64_t{0}).b), "metadata count 18446744073709551615 is absurd");
  // A count that the remaining bytes could almost hold is still refused by the per-entry minimum.
  Bytes few = Bytes::gguf(3, 0, 10);
  few.zeros(100);  // 10 keys need at least 130 bytes
  expect_error(open_bytes(dir, few.b), "metadata count 10 is absurd");
}

TEST(GgufReader, HugeStringAndArrayLengthsAreRefused) {
  TempDir dir;
  Bytes key = Bytes::gguf(3, 0, 1);
  key.u64(k2Pow62).raw("abc").zeros(16);
  expect_error(open_bytes(dir, key.b), "truncated: metadata key 0 needs a string of 4611686018427387904 bytes");

  Bytes value = Bytes::gguf(3, 0, 1);
  value.str("general.name").u32(kStr).u64(k2Pow62).raw("abc");
  // Header 24 + key length 8 + key 12 + type 4 + string length 8 = offset 56; 3 bytes follow.
  expect_error(open_bytes(dir, value.b),
               "metadata key 0 ('general.name') needs a string of 4611686018427387904 bytes at offset 56, file has 59");

  Bytes u32s = Bytes::gguf(3, 0, 1);
  u32s.str("a").u32(kArr).u32(kU32).u64(k2Pow62).zeros(16);
  expect_error(open_bytes(dir, u32s.b), "metadata key 0 ('a') needs 4611686018427387904 uint32 x 4 bytes");

  Bytes strings = Bytes::gguf(3, 0, 1);
  strings.str("a").u32(kArr).u32(kStr).u64(k2Pow62).zeros(16);
  expect_error(open_bytes(dir, strings.b), "needs 4611686018427387904 string x 8 bytes");

  Bytes arrays = Bytes::gguf(3, 0, 1);
  arrays.str("a").u32(kArr).u32(kArr).u64(k2Pow62).zeros(16);
  expect_error(open_bytes(dir, arrays.b), "needs 4611686018427387904 array x 12 bytes");

  // A string inside an array, too long for the file: the element is named.
  Bytes element = Bytes::gguf(3, 0, 1);
  element.str("tokenizer.ggml.tokens").u32(kArr).u32(kStr).u64(2).str("ok").u64(k2Pow62).zeros(8);
  expect_error(open_bytes(dir, element.b), "metadata key 0 ('tokenizer.ggml.tokens') element 1 needs a string of");
}

TEST(GgufReader, NestedArraysParseAndDepthIsBounded) {
  TempDir dir;
  // [[ "x", "yz" ], [ ]]: an array of two arrays of strings.
  Bytes x = Bytes::gguf(3, 0, 2);
  x.str("nested").u32(kArr).u32(kArr).u64(2);
  x.u32(kStr).u64(2).str("x").str("yz");
  x.u32(kStr).u64(0);
  x.kv_u32("after", 7);
  auto o = open_bytes(dir, x.b);
  ASSERT_TRUE(o.file) << error_of(o);
  const GgufValue* v = o.file->find("nested");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->type, GgufType::ARRAY);
  EXPECT_EQ(v->array_type, GgufType::ARRAY);
  EXPECT_EQ(v->array_size, 2u);
  EXPECT_EQ(*o.file->get_int("after"), 7);  // parsing resumed after the nested array
  auto as_strings = o.file->get_string_array("nested");
  ASSERT_FALSE(as_strings);
  EXPECT_NE(as_strings.error().message.find("expected an array of string, got array of array"), std::string::npos);

  // Nine levels of single-element arrays: refused, not recursed into without bound.
  Bytes deep = Bytes::gguf(3, 0, 1);
  deep.str("deep").u32(kArr);
  for (int i = 0; i < 9; ++i) deep.u32(kArr).u64(1);
  deep.u32(kU32).u64(0);
  expect_error(open_bytes(dir, deep.b), "arrays nested deeper than 8");

  // A nested element cut short names its position.
  Bytes cut = Bytes::gguf(3, 0, 1);
  cut.str("n").u32(kArr).u32(kArr).u64(2).u32(kU32).u64(1).u32(5).u32(kU32).u64(3).u32(1);
  expect_error(open_bytes(dir, cut.b), "metadata key 0 ('n') element 1 needs 3 uint32 x 4 bytes");
}

TEST(GgufReader, BadValuesAreRefused) {
  TempDir dir;
  Bytes type = Bytes::gguf(3, 0, 1);
  type.str("k").u32(13).u32(0);
  expect_error(open_bytes(dir, type.b), "metadata key 0 ('k'): unknown metadata value type 13 at offset 33");

  Bytes boolean = Bytes::gguf(3, 0, 1);
  boolean.str("k").u32(static_cast<uint32_t>(GgufType::BOOL)).u8(2);
  expect_error(open_bytes(dir, boolean.b), "bool value 2 is not 0 or 1");

  Bytes dup = Bytes::gguf(3, 0, 2);
  dup.kv_u32("k", 1).kv_u32("k", 2);
  expect_error(open_bytes(dir, dup.b), "metadata key 1 ('k'): duplicate key");

  Bytes empty = Bytes::gguf(3, 0, 1);
  empty.kv_u32("", 1);
  expect_error(open_bytes(dir, empty.b), "metadata key 0: empty key");

  // uint64 above INT64_MAX: the file is fine, only get_int refuses the value.
  Bytes big = Bytes::gguf(3, 0, 1);
  big.str("big").u32(static_cast<uint32_t>(GgufType::UINT64)).u64(~uint64_t{0});
  auto o = open_bytes(dir, big.b);
  ASSERT_TRUE(o.file) << error_of(o);
  EXPECT_EQ(o.file->find("big")->uint_value, ~uint64_t{0});
  auto v = o.file->get_int("big");
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("18446744073709551615 does not fit in int64"), std::string::npos);
}

// A file with one tensor info and `data_bytes` of data after the aligned table.
Bytes one_tensor(const std::vector<uint64_t>& dims, uint32_t ggml_type, uint64_t offset, size_t data_bytes) {
  Bytes x = Bytes::gguf(3, 1, 0);
  x.tensor("w", dims, ggml_type, offset);
  x.pad_to(32).zeros(data_bytes);
  return x;
}

TEST(GgufReader, TensorInfoChecks) {
  TempDir dir;
  EXPECT_TRUE(open_bytes(dir, one_tensor({4, 2}, 0, 0, 32).b).file);
  expect_error(open_bytes(dir, one_tensor({1, 1, 1, 1, 1}, 0, 0, 32).b), "tensor 0 ('w'): n_dims 5 > 4");
  expect_error(open_bytes(dir, one_tensor({4, 0}, 0, 0, 32).b), "tensor 0 ('w'): dims[1] = 0 is not in [1, 2^63)");
  expect_error(open_bytes(dir, one_tensor({uint64_t{1} << 63}, 0, 0, 32).b), "dims[0] = 9223372036854775808");
  expect_error(open_bytes(dir, one_tensor({uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0, 32).b),
               "element count of dims [4294967296, 4294967296] overflows");
  expect_error(open_bytes(dir, one_tensor({uint64_t{1} << 62}, 0, 0, 32).b),
               "byte size of dims [4611686018427387904] f32 overflows");
  // 8 f32 = 32 bytes; the data section holds 32 bytes, so offset 32 lies past the end.
  expect_error(open_bytes(dir, one_tensor({8}, 0, 32, 32).b),
               "tensor 0 ('w'): data at offset 32 + 32 bytes lies past the end of the file");
  expect_error(open_bytes(dir, one_tensor({8}, 0, 0, 31).b), "data at offset 0 + 32 bytes lies past the end");
  expect_error(open_bytes(dir, one_tensor({8}, 0, 4, 64).b),
               "tensor 0 ('w'): data offset 4 is not a multiple of the alignment 32");
  expect_error(open_bytes(dir, one_tensor({8}, 0, ~uint64_t{0} - 31, 64).b), "lies past the end of the file");
  // q8_0 rows are blocks of 32 values.
  expect_error(open_bytes(dir, one_tensor({16, 2}, 8, 0, 64).b), "rows of 16 values are not whole q8_0 blocks of 32");
  expect_error(open_bytes(dir, one_tensor({8}, 99, 0, 64).b), "tensor 0 ('w'): unknown ggml tensor type 99");

  Bytes dup = Bytes::gguf(3, 2, 0);
  dup.tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad_to(32).zeros(64);
  expect_error(open_bytes(dir, dup.b), "tensor 1 ('w'): duplicate tensor name");

  // A ggml type Helix does not compute with but knows the size of: parses, dtype empty.
  // q5_k: 256 values in 176 bytes.
  auto q5 = open_bytes(dir, one_tensor({256, 2}, 13, 0, 352).b);
  ASSERT_TRUE(q5.file) << error_of(q5);
  EXPECT_FALSE(q5.file->tensors()[0].dtype.has_value());
  EXPECT_EQ(q5.file->tensors()[0].n_bytes, 352);
  EXPECT_EQ(ggml_type_name(13), "q5_k");
  EXPECT_EQ(ggml_type_name(99), "type 99");
}

TEST(GgufReader, AlignmentKey) {
  TempDir dir;
  // general.alignment 64: the table (24 + key 8+17 + type 4 + value 4 = 57, then the tensor info
  // 8+1 + 4 + 8 + 4 + 8 = 33, so 90 bytes) is padded to 128.
  Bytes x = Bytes::gguf(3, 1, 1);
  x.kv_u32("general.alignment", 64).tensor("w", {8}, 0, 0).pad_to(64).zeros(32);
  auto o = open_bytes(dir, x.b);
  ASSERT_TRUE(o.file) << error_of(o);
  EXPECT_EQ(o.file->alignment(), 64u);
  EXPECT_EQ(o.file->data_offset(), 128u);

  Bytes odd = Bytes::gguf(3, 0, 1);
  odd.kv_u32("general.alignment", 48);
  expect_error(open_bytes(dir, odd.b), "metadata key 'general.alignment': 48 is not a power of two");
  Bytes text = Bytes::gguf(3, 0, 1);
  text.kv_str("general.alignment", "32");
  expect_error(open_bytes(dir, text.b), "metadata key 'general.alignment': expected an integer, got string");
  // With alignment 64, offset 32 is misaligned.
  Bytes mis = Bytes::gguf(3, 1, 1);
  mis.kv_u32("general.alignment", 64).tensor("w", {8}, 0, 32).pad_to(64).zeros(128);
  expect_error(open_bytes(dir, mis.b), "data offset 32 is not a multiple of the alignment 64");
}

// The tiny llama's metadata without the keys in `skip`, edited by `edit`; no tensors.
Result<ModelShape> tiny_shape(const TempDir& dir, std::initializer_list<std::string_view> skip,
                              void (*edit)(GgufWriter&) = nullptr) {
  GgufWriter all;
  test::add_tiny_llama_metadata(all);
  auto bytes = all.to_bytes();
  EXPECT_TRUE(bytes);
  test::write_bytes(dir.file("all.gguf"), *bytes);
  auto parsed = GgufFile::open(dir.file("all.gguf"));
  EXPECT_TRUE(parsed);
  // Rebuild the metadata key by key (scalars, strings and the two arrays the tiny llama has).
  GgufWriter w;
  for (const auto& e : parsed->metadata()) {
    if (std::find(skip.begin(), skip.end(), e.key) != skip.end()) continue;
    const GgufValue& v = e.value;
    if (v.type == GgufType::STRING) w.add_string(e.key, v.string_value);
    else if (v.type == GgufType::UINT32) w.add_uint32(e.key, static_cast<uint32_t>(v.int_value));
    else if (v.type == GgufType::FLOAT32) w.add_float32(e.key, static_cast<float>(v.float_value));
    else if (e.key == "tokenizer.ggml.tokens") w.add_string_array(e.key, {"<unk>", "<s>", "</s>", "a"});
    else if (e.key == "tokenizer.ggml.scores") w.add_float_array(e.key, *parsed->get_float_array(e.key));
    else ADD_FAILURE() << "unexpected key " << e.key;
  }
  if (edit) edit(w);
  const std::string path = dir.file("shape.gguf");
  EXPECT_TRUE(w.write(path));
  auto f = GgufFile::open(path);
  if (!f) return Unexpected{f.error()};
  return shape_from_gguf(*f);
}

TEST(GgufReader, ShapeKeys) {
  TempDir dir;
  const std::string path = dir.file("shape.gguf");
  auto full = tiny_shape(dir, {});
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->name, "shape");
  EXPECT_EQ(full->n_layers, 1);
  EXPECT_EQ(full->n_heads, 2);
  EXPECT_EQ(full->n_kv_heads, 1);
  EXPECT_EQ(full->head_dim, 4);
  EXPECT_EQ(full->hidden_dim, 8);
  EXPECT_EQ(full->ffn_dim, 16);
  EXPECT_EQ(full->vocab_size, 4);
  EXPECT_EQ(full->context_length, 32);
  EXPECT_TRUE(full->tied_embeddings);  // no output.weight

  auto missing = tiny_shape(dir, {"llama.block_count"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, path + ": metadata key 'llama.block_count': missing");
  auto no_eps = tiny_shape(dir, {"llama.attention.layer_norm_rms_epsilon"});
  ASSERT_FALSE(no_eps);
  EXPECT_EQ(no_eps.error().message, path + ": metadata key 'llama.attention.layer_norm_rms_epsilon': missing");
  auto no_arch = tiny_shape(dir, {"general.architecture"});
  ASSERT_FALSE(no_arch);
  EXPECT_EQ(no_arch.error().message, path + ": metadata key 'general.architecture': missing");
  auto no_vocab = tiny_shape(dir, {"tokenizer.ggml.tokens"});
  ASSERT_FALSE(no_vocab);
  EXPECT_NE(no_vocab.error().message.find("no vocabulary size"), std::string::npos);

  auto wrong = tiny_shape(dir, {}, [](GgufWriter& w) { w.add_string("llama.block_count", "5"); });
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message, path + ": metadata key 'llama.block_count': expected an integer, got string");
  auto wrong_tokens = tiny_shape(dir, {}, [](GgufWriter& w) { w.add_float_array("tokenizer.ggml.tokens", {1.0f}); });
  ASSERT_FALSE(wrong_tokens);
  EXPECT_EQ(wrong_tokens.error().message,
            path + ": metadata key 'tokenizer.ggml.tokens': expected an array of string, got array of float32");
  auto arch = tiny_shape(dir, {}, [](GgufWriter& w) { w.add_string("general.architecture", "qwen2"); });
  ASSERT_FALSE(arch);
  EXPECT_EQ(arch.error().message, path + ": unsupported architecture 'qwen2' (Helix runs 'llama')");
  auto zero_heads = tiny_shape(dir, {}, [](GgufWriter& w) { w.add_uint32("llama.attention.head_count", 0); });
  ASSERT_FALSE(zero_heads);
  EXPECT_NE(zero_heads.error().message.find("'llama.attention.head_count': must be > 0, got 0"), std::string::npos);
  auto bad_eps =
      tiny_shape(dir, {}, [](GgufWriter& w) { w.add_float32("llama.attention.layer_norm_rms_epsilon", -1); });
  ASSERT_FALSE(bad_eps);
  EXPECT_NE(bad_eps.error().message.find("must be > 0, got -1"), std::string::npos);
  auto partial_rope = tiny_shape(dir, {}, [](GgufWriter& w) { w.add_uint32("llama.rope.dimension_count", 2); });
  ASSERT_FALSE(partial_rope);
  EXPECT_NE(partial_rope.error().message.find("llama.rope.dimension_count 2 != head_dim 4"), std::string::npos);
  auto bad_kv = tiny_shape(dir, {}, [](GgufWriter& w) { w.add_uint32("llama.attention.head_count_kv", 3); });
  ASSERT_FALSE(bad_kv);
  EXPECT_NE(bad_kv.error().message.find("n_kv_heads: 3 does not divide n_heads 2"), std::string::npos);

  // No head_count_kv: multi-head attention. No token list: llama.vocab_size. Explicit RoPE keys.
  auto defaults = tiny_shape(dir, {"llama.attention.head_count_kv", "tokenizer.ggml.tokens"}, [](GgufWriter& w) {
    w.add_uint32("llama.vocab_size", 7);
    w.add_float32("llama.rope.freq_base", 500000.0f);
    w.add_uint32("llama.rope.dimension_count", 4);
  });
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->n_kv_heads, 2);
  EXPECT_EQ(defaults->vocab_size, 7);
  EXPECT_EQ(defaults->rope_freq_base, 500000.0f);
}

// Reads everything a reader of the file would: every key through its typed getter, every tensor's bytes.
void use_everything(const GgufFile& f) {
  for (const auto& e : f.metadata()) {
    if (e.value.type == GgufType::ARRAY) {
      (void)f.get_string_array(e.key);
      (void)f.get_float_array(e.key);
      (void)f.get_int_array(e.key);
    } else {
      (void)f.get_int(e.key);
      (void)f.get_float(e.key);
      (void)f.get_bool(e.key);
      (void)f.get_string(e.key);
    }
  }
  // Touch each tensor's first and last byte, so a bad range shows up under AddressSanitizer.
  volatile uint8_t sink = 0;
  for (const auto& t : f.tensors()) {
    const uint8_t* p = f.tensor_data(t);
    sink = sink ^ p[0] ^ p[t.n_bytes - 1];
  }
  (void)shape_from_gguf(f);
}

// Seeded random mutations of a small valid file: each must parse or fail with a message naming the file,
// never crash or over-read (this runs under AddressSanitizer in CI; parsed from exact-size heap copies).
TEST(GgufReader, RandomByteFlipsNeverCrash) {
  const std::vector<uint8_t> base = test::tiny_llama_bytes();
  const std::string path = "fuzz.gguf";
  constexpr uint32_t kSeed = 20240611;
  constexpr int kMutations = 3000;
  std::mt19937 rng(kSeed);
  int opened = 0;
  for (int i = 0; i < kMutations; ++i) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + ", mutation " + std::to_string(i));
    std::vector<uint8_t> bytes = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      // Mostly the header and tables (the first 1 KiB), where structure lives.
      const size_t at = rng() % 2 == 0 ? rng() % std::min<size_t>(1024, bytes.size()) : rng() % bytes.size();
      switch (rng() % 4) {
        case 0: bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: bytes[at] = 0xFF; break;
        case 2: bytes[at] = 0x00; break;
        default: bytes[at] = static_cast<uint8_t>(rng()); break;
      }
    }
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
    const std::vector<uint8_t> exact(bytes.begin(), bytes.end());  // no spare capacity to hide over-reads
    auto f = GgufFile::parse(path, exact.data(), exact.size());
    if (f) {
      ++opened;
      use_everything(*f);
    } else {
      ASSERT_EQ(f.error().message.rfind(path + ": ", 0), 0u) << f.error().message;
    }
    auto m = parse_model_file(path, exact.data(), exact.size());
    if (!m) {
      ASSERT_EQ(m.error().message.rfind(path + ": ", 0), 0u) << m.error().message;
    }
  }
  // Many flips land in tensor data or string bytes and leave the file valid; some must.
  EXPECT_GT(opened, 0);
  EXPECT_LT(opened, kMutations);
}

}  // namespace
}  // namespace helix
