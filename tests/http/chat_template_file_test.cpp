// /v1/chat/completions renders messages with the model file's own chat template (GGUF tokenizer.chat_template),
// and with the plain fallback when the file has none.
#include "server/chat_prompt.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/gguf_writer.h"
#include "model/tokenizer_for_model.h"
#include "test_util.h"

namespace helix::server {
namespace {

TEST(ChatPromptFromFile, ModelWithoutTemplateGetsThePlainFallback) {
  auto file = open_model_file(test::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(file) << file.error().message;
  auto tok = tokenizer_for_model(*file);
  ASSERT_TRUE(tok);
  auto renderer = chat_renderer_for_model(*file);
  ASSERT_TRUE(renderer) << renderer.error().message;
  auto text = (*renderer)({{"user", "Hi"}}, true);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "user: Hi\nassistant:");
}

TEST(ChatPromptFromFile, TheFileTemplateRendersTheReferenceExactly) {
  std::ifstream in(test::shared_path("testdata/chat-templates.json"));
  const auto data = nlohmann::json::parse(in);
  const nlohmann::json* chatml = nullptr;
  for (const auto& f : data["families"])
    if (f["family"] == "chatml") chatml = &f;
  ASSERT_NE(chatml, nullptr);

  // A vocab-only GGUF with a llama shape, a vocabulary holding ChatML's special tokens, and its template.
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_uint32("llama.context_length", 2048);
  w.add_uint32("llama.embedding_length", 64);
  w.add_uint32("llama.block_count", 1);
  w.add_uint32("llama.feed_forward_length", 128);
  w.add_uint32("llama.attention.head_count", 8);
  w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  std::vector<std::string> tokens = {"<unk>", (*chatml)["bos_token"], (*chatml)["eos_token"]};
  for (int b = 0; b < 256; ++b) tokens.push_back(fmt::format("<0x{:02X}>", b));
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_float_array("tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.0f));
  std::vector<int32_t> types(tokens.size(), 6);
  types[0] = 2;
  types[1] = types[2] = 3;
  w.add_int32_array("tokenizer.ggml.token_type", types);
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  w.add_string("tokenizer.chat_template", (*chatml)["template"].get<std::string>());
  test::TempDir dir;
  ASSERT_TRUE(w.write(dir.file("chatml.gguf")));

  auto file = open_model_file(dir.file("chatml.gguf"));
  ASSERT_TRUE(file) << file.error().message;
  auto tok = tokenizer_for_model(*file);
  ASSERT_TRUE(tok) << tok.error().message;
  auto renderer = chat_renderer_for_model(*file);
  ASSERT_TRUE(renderer) << renderer.error().message;
  for (const auto& c : (*chatml)["cases"]) {
    std::vector<ChatTurn> turns;
    for (const auto& m : c["messages"]) turns.push_back({m["role"], m["content"]});
    auto text = (*renderer)(turns, c["add_generation_prompt"].get<bool>());
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, c["expected"].get<std::string>()) << c["name"];
  }
}

}  // namespace
}  // namespace helix::server
