// helix gen-model's generator: files load, their shape is the preset's, they generate, and the same seed gives
// the same weights at every storage type.
#include "model/model_generator.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/batch_generator.h"
#include "kernels/dequantize.h"
#include "model/tokenizer_for_model.h"
#include "test_util.h"

namespace helix {
namespace {

// A small shape whose widths are whole q8_0/q4_0 blocks (stories260K's ffn of 172 is not).
ModelShape small_shape() {
  ModelShape s = *find_preset("stories260k");
  s.name = "small";
  s.ffn_dim = 192;
  s.vocab_size = 400;
  return s;
}

TEST(ModelGenerator, WritesALoadableModelOfTheShape) {
  test::TempDir dir;
  for (DType type : {DType::F32, DType::F16, DType::Q8_0, DType::Q4_0}) {
    const std::string path = dir.file(std::string(dtype_name(type)) + ".gguf");
    GeneratedModelOptions o;
    o.weight_type = type;
    o.seed = 7;
    ASSERT_TRUE(write_random_model(small_shape(), o, path)) << dtype_name(type);
    auto model = Transformer::load(path);
    ASSERT_TRUE(model) << model.error().message;
    const ModelShape& s = (*model)->shape();
    EXPECT_EQ(s.n_layers, 5);
    EXPECT_EQ(s.n_heads, 8);
    EXPECT_EQ(s.n_kv_heads, 4);
    EXPECT_EQ(s.head_dim, 8);
    EXPECT_EQ(s.ffn_dim, 192);
    EXPECT_EQ(s.vocab_size, 400);
    EXPECT_EQ(s.context_length, 512);
    EXPECT_EQ((*model)->weights().layers[0].wq.dtype, type);
    auto tok = tokenizer_for_model((*model)->file());
    ASSERT_TRUE(tok) << tok.error().message;
    EXPECT_EQ(tok->vocab_size(), 400);
    EXPECT_EQ(tok->decode(tok->encode("hello world", true)), "hello world");

    EngineOptions eo;
    eo.num_blocks = 16;
    auto g = BatchGenerator::create(std::move(*model), eo);
    ASSERT_TRUE(g);
    GenerationRequest r;
    r.prompt = tok->encode("once", true);
    r.max_new_tokens = 20;
    auto out = (*g)->generate(std::span<const GenerationRequest>(&r, 1));
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ((*out)[0].tokens.size(), 20u);
  }
}

TEST(ModelGenerator, SameSeedSameWeightsAtEveryType) {
  test::TempDir dir;
  GeneratedModelOptions o;
  o.seed = 3;
  o.weight_type = DType::F32;
  ASSERT_TRUE(write_random_model(small_shape(), o, dir.file("f32.gguf")));
  o.weight_type = DType::Q8_0;
  ASSERT_TRUE(write_random_model(small_shape(), o, dir.file("q8.gguf")));
  auto a = open_model_file(dir.file("f32.gguf"));
  auto b = open_model_file(dir.file("q8.gguf"));
  ASSERT_TRUE(a && b);
  const TensorView* ta = a->find("blk.2.ffn_up.weight");
  const TensorView* tb = b->find("blk.2.ffn_up.weight");
  ASSERT_TRUE(ta && tb);
  std::vector<float> x(64 * 192), y(64 * 192);
  dequantize_row(DType::F32, ta->data, x.data(), static_cast<int64_t>(x.size()));
  dequantize_row(DType::Q8_0, tb->data, y.data(), static_cast<int64_t>(y.size()));
  // q8_0 stores q = round(x / d) with d = amax / 127 kept as fp16: the error is at most half a step (amax / 254)
  // plus |q| <= 127 times d's fp16 rounding (relative 2^-11), i.e. amax * (1/254 + 1/2048).
  const float amax = std::sqrt(3.0f) / 8.0f;  // uniform values with stddev 1/sqrt(64) lie within +-sqrt(3)/8
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], amax * (1.0f / 254 + 1.0f / 2048)) << i;
  // Different seeds differ.
  o.seed = 4;
  o.weight_type = DType::F32;
  ASSERT_TRUE(write_random_model(small_shape(), o, dir.file("other.gguf")));
  auto c = open_model_file(dir.file("other.gguf"));
  ASSERT_TRUE(c);
  EXPECT_NE(std::memcmp(c->find("blk.2.ffn_up.weight")->data, ta->data, 64), 0);
}

// K-quants need rows of whole 256-value super-blocks: a small shape with hidden 256 and ffn 512.
TEST(ModelGenerator, KQuantsAndTheQ4KMMix) {
  ModelShape s = small_shape();
  s.n_heads = 8;
  s.n_kv_heads = 4;
  s.head_dim = 32;
  s.hidden_dim = 256;
  s.ffn_dim = 512;
  s.tied_embeddings = false;  // a classifier of its own, which Q4_K_M keeps in q6_k
  test::TempDir dir;
  for (int variant = 0; variant < 3; ++variant) {
    GeneratedModelOptions o;
    o.weight_type = variant == 0 ? DType::Q4_K : DType::Q6_K;
    o.q4_k_m = variant == 2;
    const std::string path = dir.file("k" + std::to_string(variant) + ".gguf");
    ASSERT_TRUE(write_random_model(s, o, path));
    auto model = Transformer::load(path);
    ASSERT_TRUE(model) << model.error().message;
    const Weights& w = (*model)->weights();
    if (variant == 2) {  // the Q4_K_M mix: attn_v, ffn_down and the classifier in q6_k, the rest q4_k
      EXPECT_EQ(w.layers[0].wq.dtype, DType::Q4_K);
      EXPECT_EQ(w.layers[0].wv.dtype, DType::Q6_K);
      EXPECT_EQ(w.layers[0].w_down.dtype, DType::Q6_K);
      EXPECT_EQ(w.layers[0].w_up.dtype, DType::Q4_K);
      EXPECT_EQ(w.classifier.dtype, DType::Q6_K);
    } else {
      EXPECT_EQ(w.layers[0].wq.dtype, o.weight_type);
    }
    EngineOptions eo;
    eo.num_blocks = 16;
    auto g = BatchGenerator::create(std::move(*model), eo);
    ASSERT_TRUE(g);
    GenerationRequest r;
    r.prompt = {1, 300, 301};
    r.max_new_tokens = 10;
    auto out = (*g)->generate(std::span<const GenerationRequest>(&r, 1));
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ((*out)[0].tokens.size(), 10u);
  }
}

// Generated from a preset, the file's shape is the preset's exactly.
TEST(ModelGenerator, ShapeMatchesThePreset) {
  test::TempDir dir;
  GeneratedModelOptions o;
  o.weight_type = DType::F32;  // stories260k's ffn of 172 is not a whole q8_0 block
  const ModelShape preset = *find_preset("stories260k");
  ASSERT_TRUE(write_random_model(preset, o, dir.file("s.gguf")));
  auto f = open_model_file(dir.file("s.gguf"));
  ASSERT_TRUE(f) << f.error().message;
  const ModelShape& s = f->shape;
  EXPECT_EQ(s.n_layers, preset.n_layers);
  EXPECT_EQ(s.n_heads, preset.n_heads);
  EXPECT_EQ(s.n_kv_heads, preset.n_kv_heads);
  EXPECT_EQ(s.head_dim, preset.head_dim);
  EXPECT_EQ(s.hidden_dim, preset.hidden_dim);
  EXPECT_EQ(s.ffn_dim, preset.ffn_dim);
  EXPECT_EQ(s.vocab_size, preset.vocab_size);
  EXPECT_EQ(s.context_length, preset.context_length);
  EXPECT_EQ(s.rope_freq_base, preset.rope_freq_base);
  EXPECT_EQ(s.rms_norm_eps, preset.rms_norm_eps);
  EXPECT_EQ(s.tied_embeddings, preset.tied_embeddings);  // no output.weight written for a tied preset
  EXPECT_EQ(s.kv_bytes_per_token(), preset.kv_bytes_per_token());
}

TEST(ModelGenerator, RefusesWidthsThatAreNotWholeBlocks) {
  test::TempDir dir;
  GeneratedModelOptions o;
  o.weight_type = DType::Q8_0;
  auto st = write_random_model(*find_preset("stories260k"), o, dir.file("x.gguf"));  // ffn 172
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("multiples of 32"), std::string::npos);
}

}  // namespace
}  // namespace helix
