#include "model/llama2c_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "model/model_file.h"
#include "model_test_files.h"
#include "test_util.h"

namespace helix {
namespace {

using test::TempDir;

float float_at(const uint8_t* p, int64_t index) {
  float v;
  std::memcpy(&v, p + index * 4, 4);
  return v;
}

const Llama2cTensor* find(const Llama2cFile& f, const std::string& name) {
  for (const auto& t : f.tensors())
    if (t.name == name) return &t;
  return nullptr;
}

Result<Llama2cFile> open_bytes(const TempDir& dir, const std::vector<uint8_t>& bytes, std::string* path_out) {
  *path_out = dir.file("model.bin");
  test::write_bytes(*path_out, bytes);
  return Llama2cFile::open(*path_out);
}

TEST(Llama2cReader, Stories260KV0) {
  auto f = Llama2cFile::open(test::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_TRUE(f) << f.error().message;
  const Llama2cHeader& h = f->header();
  EXPECT_EQ(h.version, 0);
  EXPECT_EQ(h.header_bytes, 28);
  EXPECT_EQ(h.dim, 64);
  EXPECT_EQ(h.hidden_dim, 172);
  EXPECT_EQ(h.n_layers, 5);
  EXPECT_EQ(h.n_heads, 8);
  EXPECT_EQ(h.n_kv_heads, 4);
  EXPECT_EQ(h.vocab_size, 512);  // stored positive: the classifier is the embedding
  EXPECT_EQ(h.seq_len, 512);
  EXPECT_TRUE(h.shared_classifier);
  // token_embd + 5 layers x 9 + output_norm; no output.weight (tied).
  EXPECT_EQ(f->tensors().size(), 47u);
  EXPECT_EQ(find(*f, "output.weight"), nullptr);

  const Llama2cTensor* embd = find(*f, "token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->offset, 28);
  EXPECT_EQ(embd->dims, (std::vector<int64_t>{64, 512}));
  EXPECT_EQ(embd->n_bytes, 512 * 64 * 4);
  // After the embedding (32768 floats) come the 5 attention norms (5 * 64), then wq.
  EXPECT_EQ(find(*f, "blk.0.attn_norm.weight")->offset, 28 + 32768 * 4);
  EXPECT_EQ(find(*f, "blk.1.attn_norm.weight")->offset, 28 + (32768 + 64) * 4);
  EXPECT_EQ(find(*f, "blk.0.attn_q.weight")->offset, 28 + (32768 + 320) * 4);
  EXPECT_EQ(find(*f, "blk.0.attn_k.weight")->dims, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(find(*f, "blk.4.ffn_down.weight")->dims, (std::vector<int64_t>{172, 64}));
  // 32768 + 320 + 20480 (wq) + 10240 (wk) + 10240 (wv) + 20480 (wo) + 320 + 3 * 55040 = 259968 floats.
  const Llama2cTensor* norm = find(*f, "output_norm.weight");
  EXPECT_EQ(norm->offset, 28 + 259968 * 4);
  // Then two RoPE tables of 512 * 8 / 2 floats each end the file: 1039900 + 256 + 16384 = 1056540.
  EXPECT_EQ(norm->offset + norm->n_bytes + 2 * 2048 * 4, 1056540);
  // The first embedding values (read with a separate script).
  EXPECT_EQ(float_at(f->tensor_data(*embd), 0), -0.29474878311157227f);
  EXPECT_EQ(float_at(f->tensor_data(*embd), 1), 0.5618956089019775f);

  const ModelShape& s = f->shape();
  EXPECT_EQ(s.name, "stories260K");
  EXPECT_EQ(s.n_layers, 5);
  EXPECT_EQ(s.n_heads, 8);
  EXPECT_EQ(s.n_kv_heads, 4);
  EXPECT_EQ(s.head_dim, 8);
  EXPECT_EQ(s.hidden_dim, 64);
  EXPECT_EQ(s.ffn_dim, 172);
  EXPECT_EQ(s.vocab_size, 512);
  EXPECT_EQ(s.context_length, 512);
  EXPECT_EQ(s.rope_freq_base, 10000.0f);
  EXPECT_EQ(s.rms_norm_eps, 1e-5f);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_EQ(s.kv_dtype, DType::F16);
  EXPECT_EQ(s.parameter_count(), 260032);  // (1056540 - 28) / 4 floats minus the 4096 RoPE floats
}

TEST(Llama2cReader, Stories260KV1) {
  auto f = Llama2cFile::open(test::shared_path("models/stories260K/stories260K_v1.bin"));
  ASSERT_TRUE(f) << f.error().message;
  const Llama2cHeader& h = f->header();
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.header_bytes, 256);
  EXPECT_EQ(h.dim, 64);
  EXPECT_EQ(h.hidden_dim, 172);
  EXPECT_EQ(h.n_layers, 5);
  EXPECT_EQ(h.n_heads, 8);
  EXPECT_EQ(h.n_kv_heads, 4);
  EXPECT_EQ(h.vocab_size, 512);
  EXPECT_EQ(h.seq_len, 512);
  EXPECT_TRUE(h.shared_classifier);
  EXPECT_EQ(f->tensors().size(), 47u);
  // v1 puts the norms first: 5 attention norms, 5 FFN norms, the final norm, then the embedding.
  EXPECT_EQ(find(*f, "blk.0.attn_norm.weight")->offset, 256);
  EXPECT_EQ(find(*f, "blk.0.ffn_norm.weight")->offset, 256 + 320 * 4);
  EXPECT_EQ(find(*f, "output_norm.weight")->offset, 256 + 640 * 4);
  EXPECT_EQ(find(*f, "token_embd.weight")->offset, 256 + 704 * 4);
  EXPECT_EQ(find(*f, "blk.0.attn_q.weight")->offset, 256 + (704 + 32768) * 4);
  const Llama2cTensor& last = f->tensors().back();
  EXPECT_EQ(last.name, "blk.4.ffn_up.weight");
  EXPECT_EQ(last.offset + last.n_bytes, 1040384);  // the file size
  EXPECT_EQ(float_at(f->tensor_data(*find(*f, "token_embd.weight")), 0), -0.29474878311157227f);
  EXPECT_EQ(f->shape().name, "stories260K_v1");
  EXPECT_EQ(f->shape().context_length, 512);
}

TEST(Llama2cReader, UntiedClassifierV0AndV1) {
  TempDir dir;
  std::string path;
  // dim 8, hidden 16, 2 layers, 2 heads (head 4), 1 KV head, vocab 10, seq_len 4. Floats before the
  // RoPE tables: embedding 80 + 2 * (2*8 norms + 2*64 wq/wo + 2*32 wk/wv + 3*128 FFN) + 8 = 1272;
  // RoPE 2 * (4 * 4 / 2) = 16; classifier 80. File: 28 + (1272 + 16 + 80) * 4 = 5500 bytes.
  const auto v0 = test::llama2c_bytes(0, 8, 16, 2, 2, 1, 10, 4, false);
  ASSERT_EQ(v0.size(), 5500u);
  auto f0 = open_bytes(dir, v0, &path);
  ASSERT_TRUE(f0) << f0.error().message;
  EXPECT_FALSE(f0->header().shared_classifier);
  EXPECT_EQ(f0->header().vocab_size, 10);
  EXPECT_FALSE(f0->shape().tied_embeddings);
  EXPECT_EQ(f0->tensors().size(), 1u + 2 * 9 + 1 + 1);
  const Llama2cTensor* out0 = find(*f0, "output.weight");
  ASSERT_NE(out0, nullptr);
  EXPECT_EQ(out0->offset, 28 + (1272 + 16) * 4);
  EXPECT_EQ(out0->dims, (std::vector<int64_t>{8, 10}));
  EXPECT_EQ(float_at(f0->tensor_data(*out0), 0), 1288 * 0.5f);  // the weights count 0, 0.5, 1, ...

  const auto v1 = test::llama2c_bytes(1, 8, 16, 2, 2, 1, 10, 4, false);
  ASSERT_EQ(v1.size(), 256u + (1272 + 80) * 4);
  auto f1 = open_bytes(dir, v1, &path);
  ASSERT_TRUE(f1) << f1.error().message;
  EXPECT_FALSE(f1->shape().tied_embeddings);
  const Llama2cTensor* out1 = find(*f1, "output.weight");
  ASSERT_NE(out1, nullptr);
  EXPECT_EQ(out1->offset, 256 + 1272 * 4);
  EXPECT_EQ(float_at(f1->tensor_data(*out1), 0), 1272 * 0.5f);
}

void expect_error(const Result<Llama2cFile>& f, const std::string& path, const std::string& message) {
  ASSERT_FALSE(f) << "expected: " << message;
  EXPECT_EQ(f.error().message, path + ": " + message);
}

TEST(Llama2cReader, RefusesBadHeaders) {
  TempDir dir;
  std::string path;
  auto v2 = test::llama2c_bytes(1, 8, 16, 2, 2, 1, 10, 4, true);
  v2[4] = 2;
  expect_error(open_bytes(dir, v2, &path), path,
               "llama2.c v2 checkpoints (int8 quantized) are not supported; export version 0 or 1 (fp32)");
  auto v7 = test::llama2c_bytes(1, 8, 16, 2, 2, 1, 10, 4, true);
  v7[4] = 7;
  expect_error(open_bytes(dir, v7, &path), path, "unsupported llama2.c checkpoint version 7");

  auto flag = test::llama2c_bytes(1, 8, 16, 2, 2, 1, 10, 4, true);
  flag[36] = 2;
  expect_error(open_bytes(dir, flag, &path), path, "llama2.c v1 header: shared-classifier flag 2 is not 0 or 1");

  auto short_v1 = test::llama2c_bytes(1, 8, 16, 2, 2, 1, 10, 4, true);
  short_v1.pop_back();
  expect_error(open_bytes(dir, short_v1, &path), path,
               "llama2.c v1 checkpoint (dim 8, hidden_dim 16, n_layers 2, n_heads 2, n_kv_heads 1, vocab_size 10, "
               "seq_len 4) must have 5344 bytes, file has 5343");
  short_v1.resize(100);
  expect_error(open_bytes(dir, short_v1, &path), path,
               "truncated: llama2.c v1 header needs 256 bytes at offset 0, file has 100");

  auto zero_dim = test::llama2c_bytes(1, 0, 16, 2, 2, 1, 10, 4, true);
  expect_error(open_bytes(dir, zero_dim, &path), path, "llama2.c v1 header: dim 0 is not in [1, 65536]");
  auto heads = test::llama2c_bytes(1, 8, 16, 2, 3, 1, 10, 4, true);
  expect_error(open_bytes(dir, heads, &path), path, "llama2.c v1 header: n_heads 3 does not divide dim 8");
  auto kv = test::llama2c_bytes(1, 8, 16, 2, 4, 3, 10, 4, true);
  expect_error(open_bytes(dir, kv, &path), path, "llama2.c v1 header: n_kv_heads 3 does not divide n_heads 4");

  // v0 has no magic: a size that does not match its header means "not a model file".
  auto long_v0 = test::llama2c_bytes(0, 8, 16, 2, 2, 1, 10, 4, false);
  long_v0.resize(long_v0.size() + 4);
  expect_error(open_bytes(dir, long_v0, &path), path,
               "not a model file (its first 28 bytes read as a llama2.c v0 header (dim 8, hidden_dim 16, n_layers 2, "
               "n_heads 2, n_kv_heads 1, vocab_size 10, seq_len 4), which implies 5500 bytes, but the file has 5504)");
  expect_error(open_bytes(dir, std::vector<uint8_t>(10, 1), &path), path,
               "not a model file (10 bytes: too small for a GGUF or llama2.c header)");
}

TEST(Llama2cReader, TokenizerFilesAreNotModels) {
  for (const char* rel : {"models/stories260K/tok512.bin", "models/tokenizers/llama2-32k/tokenizer.bin"}) {
    const std::string path = test::shared_path(rel);
    auto f = Llama2cFile::open(path);
    ASSERT_FALSE(f) << rel;
    // tok512.bin starts with max_token_length 7, then the float score 0.0 of <unk>: hidden_dim 0.
    EXPECT_EQ(f.error().message, path +
                                     ": not a model file (no GGUF or llama2.c v1 magic, and not a llama2.c v0 header: "
                                     "hidden_dim 0 is not in [1, 262144])");
  }
}

// Byte flips in a small v1 and v0 checkpoint: each opens or fails naming the file, never crashes.
TEST(Llama2cReader, RandomByteFlipsNeverCrash) {
  const std::string path = "fuzz.bin";
  constexpr uint32_t kSeed = 77;
  std::mt19937 rng(kSeed);
  for (int version : {0, 1}) {
    const auto base = test::llama2c_bytes(version, 8, 16, 2, 2, 1, 10, 4, version == 0);
    for (int i = 0; i < 500; ++i) {
      SCOPED_TRACE("seed " + std::to_string(kSeed) + ", v" + std::to_string(version) + " mutation " +
                   std::to_string(i));
      auto bytes = base;
      for (int k = 0; k < 3; ++k) bytes[rng() % 40] = static_cast<uint8_t>(rng());
      if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
      const std::vector<uint8_t> exact(bytes.begin(), bytes.end());
      auto f = Llama2cFile::parse(path, exact.data(), exact.size());
      if (f) {
        for (const auto& t : f->tensors()) ASSERT_LE(t.offset + t.n_bytes, static_cast<int64_t>(exact.size()));
      } else {
        ASSERT_EQ(f.error().message.rfind(path + ": ", 0), 0u) << f.error().message;
      }
      auto m = parse_model_file(path, exact.data(), exact.size());
      if (!m) {
        ASSERT_EQ(m.error().message.rfind(path + ": ", 0), 0u) << m.error().message;
      }
    }
  }
}

}  // namespace
}  // namespace helix
