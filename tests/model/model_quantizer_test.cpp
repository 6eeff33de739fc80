#include "model/model_quantizer.h"

#include <gtest/gtest.h>

#include "kernels/dequantize.h"
#include "model/tokenizer_for_model.h"
#include "test_util.h"

namespace helix {
namespace {

std::string stories(const std::string& f) { return test::shared_path("models/stories260K/" + f); }

// Element i of a matrix tensor, as f32.
float element(const TensorView& t, int64_t row, int64_t col) {
  const int64_t cols = t.dims[0];
  std::vector<float> r(cols);
  dequantize_row(t.dtype, t.data + row * dtype_bytes_for(t.dtype, cols), r.data(), cols);
  return r[col];
}

TEST(ModelQuantizer, Llama2cToQ8_0KeepsShapeTokenizerAndWeights) {
  test::TempDir dir;
  auto src = open_model_file(stories("stories260K.bin"));
  ASSERT_TRUE(src);
  auto tok = tokenizer_for_model(*src);
  ASSERT_TRUE(tok);
  const std::string out = dir.file("q8.gguf");
  ASSERT_TRUE(write_quantized_model(*src, &*tok, QuantizeOptions{DType::Q8_0, 0.0f, 0}, out));
  auto q = open_model_file(out);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->shape.n_layers, 5);
  EXPECT_EQ(q->shape.hidden_dim, 64);
  EXPECT_EQ(q->shape.ffn_dim, 172);
  EXPECT_EQ(q->shape.vocab_size, 512);
  EXPECT_EQ(q->shape.tied_embeddings, src->shape.tied_embeddings);
  // Rows of 64 are two q8_0 blocks; ffn_down's rows of 172 are not whole blocks and stay f16.
  EXPECT_EQ(q->find("blk.0.attn_q.weight")->dtype, DType::Q8_0);
  EXPECT_EQ(q->find("blk.0.ffn_down.weight")->dtype, DType::F16);
  EXPECT_EQ(q->find("blk.0.attn_norm.weight")->dtype, DType::F32);
  // q8_0 keeps each value within half a step (amax / 127 / 2) of the original.
  const TensorView* a = src->find("blk.2.attn_v.weight");
  const TensorView* b = q->find("blk.2.attn_v.weight");
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t c = 0; c < 64; c += 7) EXPECT_NEAR(element(*a, r, c), element(*b, r, c), 0.01f);
  auto qtok = tokenizer_for_model(*q);
  ASSERT_TRUE(qtok);
  for (int32_t id = 0; id < 512; ++id) ASSERT_EQ(qtok->token_text(id), tok->token_text(id)) << id;
  EXPECT_EQ(qtok->bos_id(), tok->bos_id());
  EXPECT_EQ(qtok->encode("Once upon a time", true), tok->encode("Once upon a time", true));
}

TEST(ModelQuantizer, NoiseChangesWeightsReproducibly) {
  test::TempDir dir;
  auto src = open_model_file(stories("stories260K.gguf"));
  ASSERT_TRUE(src);
  const QuantizeOptions o{DType::F32, 0.5f, 3};
  ASSERT_TRUE(write_quantized_model(*src, nullptr, o, dir.file("a.gguf")));
  ASSERT_TRUE(write_quantized_model(*src, nullptr, o, dir.file("b.gguf")));
  auto a = open_model_file(dir.file("a.gguf"));
  auto b = open_model_file(dir.file("b.gguf"));
  ASSERT_TRUE(a && b);
  const TensorView* w0 = src->find("blk.0.ffn_up.weight");
  const TensorView* wa = a->find("blk.0.ffn_up.weight");
  const TensorView* wb = b->find("blk.0.ffn_up.weight");
  int differing = 0;
  for (int64_t c = 0; c < 64; ++c) {
    EXPECT_EQ(element(*wa, 1, c), element(*wb, 1, c));
    differing += element(*wa, 1, c) != element(*w0, 1, c);
  }
  EXPECT_GT(differing, 60);
}

TEST(ModelQuantizer, OptionErrorsNameTheFlag) {
  const QuantizeOptions bad{DType::Q8_0, -1.0f, 0};
  EXPECT_EQ(bad.validate().error().message.rfind("--noise:", 0), 0u);
}

}  // namespace
}  // namespace helix
