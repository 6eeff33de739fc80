#include "model/model_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "model/shape_source.h"
#include "model_test_files.h"
#include "test_util.h"

namespace helix {
namespace {

using test::TempDir;

std::string stories(const char* name) { return test::shared_path(std::string("models/stories260K/") + name); }

// Every file under models/ either opens as a model or is refused with a clear reason; none is misread.
TEST(ModelFile, EverySharedFileOpensOrIsRefused) {
  const std::filesystem::path root = test::shared_path("models");
  const std::set<std::string> models = {"stories260K.bin", "stories260K_v1.bin", "stories260K.gguf",
                                        "ggml-vocab-llama-spm.gguf"};
  int opened = 0;
  int refused = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(path);
    auto m = open_model_file(path);
    if (models.count(name)) {
      ASSERT_TRUE(m) << m.error().message;
      ++opened;
    } else if (name == "ggml-vocab-gpt-2.gguf") {
      ASSERT_FALSE(m);
      EXPECT_EQ(m.error().message, path + ": unsupported architecture 'gpt2' (Helix runs 'llama')");
    } else {
      // Tokenizer .bin/.model/.json files, licenses, test inputs.
      ASSERT_FALSE(m) << "misread as a model";
      EXPECT_EQ(m.error().message.rfind(path + ": not a model file (", 0), 0u) << m.error().message;
      ++refused;
    }
  }
  EXPECT_EQ(opened, 4);
  EXPECT_GE(refused, 10);
}

TEST(ModelFile, Stories260KFormatsAgree) {
  auto v0 = open_model_file(stories("stories260K.bin"));
  auto v1 = open_model_file(stories("stories260K_v1.bin"));
  auto gg = open_model_file(stories("stories260K.gguf"));
  ASSERT_TRUE(v0) << v0.error().message;
  ASSERT_TRUE(v1) << v1.error().message;
  ASSERT_TRUE(gg) << gg.error().message;
  EXPECT_EQ(v0->format, ModelFile::Format::Llama2cV0);
  EXPECT_EQ(v1->format, ModelFile::Format::Llama2cV1);
  EXPECT_EQ(gg->format, ModelFile::Format::Gguf);
  EXPECT_EQ(v0->version(), 0u);
  EXPECT_EQ(v1->version(), 1u);
  EXPECT_EQ(gg->version(), 3u);
  EXPECT_FALSE(v0->gguf.has_value());
  ASSERT_TRUE(gg->gguf.has_value());

  // The shape: dim 64, 5 layers, 8 heads of 8, 4 KV heads, FFN 172, vocab 512 in every format. The
  // GGUF says context 2048 (llama2.c: 512) and stores output.weight, so it is not tied.
  for (const ModelFile* m : {&*v0, &*v1, &*gg}) {
    SCOPED_TRACE(m->path);
    const ModelShape& s = m->shape;
    EXPECT_EQ(s.n_layers, 5);
    EXPECT_EQ(s.n_heads, 8);
    EXPECT_EQ(s.n_kv_heads, 4);
    EXPECT_EQ(s.head_dim, 8);
    EXPECT_EQ(s.hidden_dim, 64);
    EXPECT_EQ(s.ffn_dim, 172);
    EXPECT_EQ(s.vocab_size, 512);
    EXPECT_EQ(s.rope_freq_base, 10000.0f);
    EXPECT_EQ(s.rms_norm_eps, 1e-5f);
    EXPECT_EQ(s.kv_bytes_per_token(), 640);
  }
  EXPECT_EQ(v0->shape.context_length, 512);
  EXPECT_EQ(v1->shape.context_length, 512);
  EXPECT_EQ(gg->shape.context_length, 2048);
  EXPECT_TRUE(v0->shape.tied_embeddings);
  EXPECT_TRUE(v1->shape.tied_embeddings);
  EXPECT_FALSE(gg->shape.tied_embeddings);

  // Same 47 tensors (the GGUF adds output.weight), same dims, same f32 bytes.
  EXPECT_EQ(v0->tensors.size(), 47u);
  EXPECT_EQ(v1->tensors.size(), 47u);
  EXPECT_EQ(gg->tensors.size(), 48u);
  EXPECT_TRUE(gg->unsupported.empty());
  for (const TensorView& t : v0->tensors) {
    SCOPED_TRACE(t.name);
    const TensorView* a = v1->find(t.name);
    const TensorView* b = gg->find(t.name);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(t.dtype, DType::F32);
    EXPECT_EQ(b->dtype, DType::F32);
    EXPECT_EQ(a->dims, t.dims);
    EXPECT_EQ(b->dims, t.dims);
    ASSERT_EQ(a->n_bytes, t.n_bytes);
    ASSERT_EQ(b->n_bytes, t.n_bytes);
    EXPECT_EQ(std::memcmp(a->data, t.data, t.n_bytes), 0);
    EXPECT_EQ(std::memcmp(b->data, t.data, t.n_bytes), 0);
  }
  // The GGUF's classifier is a copy of the embedding.
  const TensorView* embd = gg->find("token_embd.weight");
  const TensorView* out = gg->find("output.weight");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(std::memcmp(out->data, embd->data, embd->n_bytes), 0);

  // Spot values (read with a separate script): token_embd row 0 and blk.4.ffn_down's first row.
  auto at = [](const TensorView* t, int64_t i) {
    float v;
    std::memcpy(&v, t->data + i * 4, 4);
    return v;
  };
  for (const ModelFile* m : {&*v0, &*v1, &*gg}) {
    EXPECT_EQ(at(m->find("token_embd.weight"), 0), -0.29474878311157227f);
    EXPECT_EQ(at(m->find("token_embd.weight"), 3), 0.34057360887527466f);
    const TensorView* down = m->find("blk.4.ffn_down.weight");
    EXPECT_EQ(down->dims, (std::vector<int64_t>{172, 64}));
    EXPECT_EQ(at(down, 0), -0.04791264981031418f);
    EXPECT_EQ(at(down, 3), 0.20311811566352844f);
  }
}

TEST(ModelFile, VocabOnlyGgufHasShapeAndNoTensors) {
  auto m = open_model_file(test::shared_path("models/tokenizers/llama-spm-gguf/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->tensors.empty());
  EXPECT_EQ(m->shape.vocab_size, 32000);
  EXPECT_EQ(m->shape.n_layers, 32);
  EXPECT_EQ(m->find("token_embd.weight"), nullptr);
}

TEST(ModelFile, UnsupportedTensorTypesAreListedApart) {
  TempDir dir;
  GgufWriter w = test::tiny_llama_writer();
  // q5_k (ggml type 13): 256 values in 176 bytes; Helix knows its size but cannot compute with it.
  ASSERT_TRUE(w.add_tensor_ggml("output.weight", 13, {256, 1}, std::vector<uint8_t>(176, 7)));
  const std::string path = dir.file("q5k.gguf");
  ASSERT_TRUE(w.write(path));
  auto m = open_model_file(path);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->tensors.size(), 11u);
  ASSERT_EQ(m->unsupported.size(), 1u);
  EXPECT_EQ(m->unsupported[0].name, "output.weight");
  EXPECT_EQ(m->unsupported[0].ggml_type, 13u);
  EXPECT_EQ(m->find("output.weight"), nullptr);
  EXPECT_FALSE(m->shape.tied_embeddings);  // output.weight exists, whatever its type
  // The views outlive the ModelFile they came from through any copy's keepalive.
  ModelFile copy = *m;
  m = Result<ModelFile>(make_error("dropped"));
  const TensorView* q = copy.find("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  float first;
  std::memcpy(&first, q->data, 4);
  EXPECT_EQ(first, 201.0f);  // the tiny llama's third tensor starts at 1 + 2 * 100
}

TEST(ModelFile, ResolveModelShapeFromPath) {
  auto preset = resolve_model_shape("stories260k");
  ASSERT_TRUE(preset);
  EXPECT_EQ(preset->name, "stories260k");
  auto file = resolve_model_shape(stories("stories260K.gguf"));
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->name, "stories260K");
  EXPECT_EQ(file->context_length, 2048);
  auto bin = resolve_model_shape(stories("stories260K.bin"));
  ASSERT_TRUE(bin) << bin.error().message;
  EXPECT_EQ(bin->context_length, 512);
  auto tok = resolve_model_shape(stories("tok512.bin"));
  ASSERT_FALSE(tok);
  EXPECT_NE(tok.error().message.find("not a model file"), std::string::npos);
  auto unknown = resolve_model_shape("no-such-model");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unknown model preset 'no-such-model'"), std::string::npos);
}

}  // namespace
}  // namespace helix
