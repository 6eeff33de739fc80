// Runs the real `helix inspect` binary and checks what it prints.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace helix {
namespace {

using test::CommandRun;
using test::run_helix;

std::string model(const char* name) { return test::shared_path(std::string("models/stories260K/") + name); }

TEST(InspectCommand, JsonForStories260KGguf) {
  const CommandRun r = run_helix("inspect --json --tensors " + model("stories260K.gguf"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["file_bytes"], 1185376);
  EXPECT_EQ(j["shape"]["n_layers"], 5);
  EXPECT_EQ(j["shape"]["n_heads"], 8);
  EXPECT_EQ(j["shape"]["n_kv_heads"], 4);
  EXPECT_EQ(j["shape"]["head_dim"], 8);
  EXPECT_EQ(j["shape"]["hidden_dim"], 64);
  EXPECT_EQ(j["shape"]["ffn_dim"], 172);
  EXPECT_EQ(j["shape"]["vocab_size"], 512);
  EXPECT_EQ(j["shape"]["context_length"], 2048);
  EXPECT_EQ(j["shape"]["tied_embeddings"], false);
  EXPECT_EQ(j["kv_bytes_per_token_f16"], 640);  // 5 * 2 * 4 * 8 * 2
  // 2 * 512 * 64 (embedding, classifier) + 64 + 5 * (64*64*2 + 64*32*2 + 3*64*172 + 2*64) = 292800.
  EXPECT_EQ(j["parameter_count"], 292800);
  EXPECT_EQ(j["tensor_count"], 48);
  EXPECT_EQ(j["bytes_by_type"]["f32"], 292800 * 4);
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["count"], 512);
  EXPECT_EQ(j["metadata"]["general.architecture"], "llama");
  ASSERT_EQ(j["tensors"].size(), 48u);
  EXPECT_EQ(j["tensors"][0]["name"], "token_embd.weight");
  EXPECT_EQ(j["tensors"][0]["type"], "f32");
  EXPECT_EQ(j["tensors"][0]["dims"], nlohmann::json::array({64, 512}));
  EXPECT_EQ(j["tensors"][0]["bytes"], 131072);
}

TEST(InspectCommand, TextForLlama2cCheckpoint) {
  const CommandRun r = run_helix("inspect " + model("stories260K_v1.bin"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("format: llama2.c v1 (fp32 checkpoint)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("layers 5, heads 8, kv heads 4 (GQA), head_dim 8, hidden 64, ffn 172, vocab 512, context 512"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("KV cache: 640 B per token at f16\n"), std::string::npos);
  EXPECT_NE(r.out.find("parameters: 260032\n"), std::string::npos);  // tied: 292800 - 512 * 64
  EXPECT_NE(r.out.find("tensors: 47 (f32: 1040128 B)\n"), std::string::npos);
}

TEST(InspectCommand, NonModelFileIsOneLineAndExitOne) {
  const std::string path = model("tok512.bin");
  const CommandRun r = run_helix("inspect " + path, true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("helix: error: " + path + ": not a model file (", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;  // exactly one line
}

}  // namespace
}  // namespace helix
