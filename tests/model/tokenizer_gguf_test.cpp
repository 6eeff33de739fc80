// Tokenizers from GGUF metadata: llama.cpp's vectors for its SentencePiece and GPT-2 vocab files.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/gguf_reader.h"
#include "model/gguf_writer.h"
#include "model/tokenizer.h"
#include "model/tokenizer_loaders.h"
#include "model/tokenizer_vectors.h"
#include "test_util.h"

namespace helix {
namespace {

const char* kSpmGguf = "models/tokenizers/llama-spm-gguf/ggml-vocab-llama-spm.gguf";
const char* kGpt2Gguf = "models/tokenizers/gpt2-bpe-gguf/ggml-vocab-gpt-2.gguf";

Result<Tokenizer> load_gguf(const std::string& path) {
  auto file = GgufFile::open(path);
  if (!file) return Unexpected{file.error()};
  return load_gguf_tokenizer(*file);
}

// Runs every .inp/.out case; returns how many passed.
int run_vectors(const Tokenizer& tok, const std::string& inp, bool round_trip) {
  const auto cases = test::read_tokenizer_vectors(inp);
  EXPECT_EQ(cases.size(), 46u);
  int passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = tok.encode(cases[i].input, false);
    EXPECT_EQ(ids, cases[i].ids) << "case " << i << ": \"" << cases[i].input << "\"";
    passed += ids == cases[i].ids ? 1 : 0;
    if (round_trip) {
      EXPECT_EQ(tok.decode(ids), cases[i].input) << "case " << i;
    }
  }
  return passed;
}

TEST(TokenizerGguf, LlamaSpmVectors) {
  auto tok = load_gguf(test::shared_path(kSpmGguf));
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_EQ(tok->kind(), TokenizerKind::kSentencePiece);
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_TRUE(tok->add_bos_default());
  // decode drops the space encode prepends, so every input comes back exactly.
  EXPECT_EQ(run_vectors(*tok, test::shared_path(kSpmGguf) + ".inp", true), 46);
}

TEST(TokenizerGguf, Gpt2BpeVectors) {
  auto tok = load_gguf(test::shared_path(kGpt2Gguf));
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_EQ(tok->kind(), TokenizerKind::kByteLevelBpe);
  EXPECT_EQ(tok->vocab_size(), 50257);
  EXPECT_EQ(tok->bos_id(), 50256);
  EXPECT_EQ(tok->eos_id(), 50256);
  EXPECT_FALSE(tok->add_bos_default());
  EXPECT_EQ(tok->token_type(50256), TokenType::Control);
  EXPECT_EQ(run_vectors(*tok, test::shared_path(kGpt2Gguf) + ".inp", true), 46);
}

TEST(TokenizerGguf, LoadTokenizerFileDispatches) {
  auto gguf = load_tokenizer_file(test::shared_path(kGpt2Gguf));
  ASSERT_TRUE(gguf) << gguf.error().message;
  EXPECT_EQ(gguf->vocab_size(), 50257);
  auto json = load_tokenizer_file(test::shared_path("models/tokenizers/smollm2/tokenizer.json"));
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(json->vocab_size(), 49152);
  auto bin = load_tokenizer_file(test::shared_path("models/stories260K/tok512.bin"));
  ASSERT_TRUE(bin) << bin.error().message;
  EXPECT_EQ(bin->vocab_size(), 512);
  EXPECT_FALSE(load_tokenizer_file(test::shared_path("models/stories260K/tok512.bin"), 32000));
  EXPECT_FALSE(load_tokenizer_file(test::shared_path("models/stories260K/does-not-exist.bin")));
}

TEST(TokenizerGguf, Llama2BinAndGgufAgree) {
  auto gguf = load_gguf(test::shared_path(kSpmGguf));
  auto bin = load_llama2c_tokenizer(test::shared_path("models/tokenizers/llama2-32k/tokenizer.bin"), 32000);
  ASSERT_TRUE(gguf && bin);
  ASSERT_EQ(gguf->vocab_size(), bin->vocab_size());
  for (int32_t id = 0; id < gguf->vocab_size(); ++id) {
    ASSERT_EQ(gguf->token_text(id), bin->token_text(id)) << id;
    ASSERT_EQ(gguf->token_score(id), bin->token_score(id)) << id;
    ASSERT_EQ(gguf->token_type(id), bin->token_type(id)) << id;  // the .bin's types are inferred
  }
  for (const auto& c : test::read_tokenizer_vectors(test::shared_path(kSpmGguf) + ".inp")) {
    EXPECT_EQ(gguf->encode(c.input, true), bin->encode(c.input, true)) << c.input;
  }
}

TEST(TokenizerGguf, StoriesGgufMatchesTok512) {
  auto gguf = load_gguf(test::shared_path("models/stories260K/stories260K.gguf"));
  auto bin = load_llama2c_tokenizer(test::shared_path("models/stories260K/tok512.bin"), 512);
  ASSERT_TRUE(gguf && bin);
  const auto data = nlohmann::json::parse(test::read_file_bytes(test::shared_path("testdata/stories260K-greedy.json")));
  const std::string text = data["text"].get<std::string>();
  EXPECT_EQ(gguf->encode(text, true), bin->encode(text, true));
  std::vector<int32_t> ids = {1};
  for (const auto& id : data["ids"]) ids.push_back(id.get<int32_t>());
  EXPECT_EQ(gguf->decode(ids), text);
}

// SmolLM2's vocab written as a GGUF with tokenizer.ggml.pre = "smollm" gives the Rust library's ids.
TEST(TokenizerGguf, SmollmPreTokenizerFromGguf) {
  const auto hf = nlohmann::json::parse(test::read_file_bytes(test::shared_path("models/tokenizers/smollm2/tokenizer.json")));
  std::vector<std::string> tokens(hf["model"]["vocab"].size());
  for (const auto& [text, id] : hf["model"]["vocab"].items()) tokens.at(id.get<size_t>()) = text;
  std::vector<int32_t> types(tokens.size(), 1);
  for (const auto& added : hf["added_tokens"]) types.at(added["id"].get<size_t>()) = 3;
  GgufWriter writer;
  writer.add_string("tokenizer.ggml.model", "gpt2");
  writer.add_string("tokenizer.ggml.pre", "smollm");
  writer.add_string_array("tokenizer.ggml.tokens", tokens);
  writer.add_int32_array("tokenizer.ggml.token_type", types);
  writer.add_string_array("tokenizer.ggml.merges", hf["model"]["merges"].get<std::vector<std::string>>());
  writer.add_uint32("tokenizer.ggml.bos_token_id", 1);
  writer.add_uint32("tokenizer.ggml.eos_token_id", 2);
  test::TempDir dir;
  ASSERT_TRUE(writer.write(dir.file("smollm2.gguf")));
  auto tok = load_gguf(dir.file("smollm2.gguf"));
  ASSERT_TRUE(tok) << tok.error().message;
  const auto data = nlohmann::json::parse(test::read_file_bytes(test::shared_path("testdata/smollm2-bpe-vectors.json")));
  int passed = 0;
  for (const auto& c : data["cases"]) {
    const auto ids = tok->encode(c["input"].get<std::string>(), false);
    EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>()) << c["input"];
    passed += ids == c["ids"].get<std::vector<int32_t>>() ? 1 : 0;
  }
  EXPECT_EQ(passed, 56);
}

// Seeded random byte strings (ASCII, multi-byte chars, invalid bytes, spaces and digits mixed) encode
// and decode back exactly: GPT-2's vocab has a char for all 256 bytes, SentencePiece falls back to
// <0xNN>. Also exercises the splitters on arbitrary input.
TEST(TokenizerGguf, RandomBytesRoundTrip) {
  auto spm = load_gguf(test::shared_path(kSpmGguf));
  auto bpe = load_gguf(test::shared_path(kGpt2Gguf));
  ASSERT_TRUE(spm && bpe);
  const uint32_t seed = 20240611;
  std::mt19937 rng(seed);
  const std::vector<std::string> atoms = {" ", "  ", "\t", "\n", "\r\n", "a", "Z", "7", "'s", "!", "\xC3\xA9",
                                          "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "\xC2\xBD", "\xE2\x80\x8D", "<s>"};
  for (int i = 0; i < 300; ++i) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int j = 0; j < n; ++j) {
      if (rng() % 4 == 0) {
        text += static_cast<char>(rng() % 256);
      } else {
        text += atoms[rng() % atoms.size()];
      }
    }
    ASSERT_EQ(spm->decode(spm->encode(text, true)), text) << "seed " << seed << " string " << i;
    ASSERT_EQ(bpe->decode(bpe->encode(text, false)), text) << "seed " << seed << " string " << i;
  }
}

// A small valid byte-level GGUF to break one key at a time.
GgufWriter tiny_writer() {
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "gpt-2");
  w.add_string_array("tokenizer.ggml.tokens", {"a", "b", "ab", "<|endoftext|>"});
  w.add_int32_array("tokenizer.ggml.token_type", {1, 1, 1, 3});
  w.add_string_array("tokenizer.ggml.merges", {"a b"});
  w.add_uint32("tokenizer.ggml.eos_token_id", 3);
  return w;
}

TEST(TokenizerGguf, MetadataErrors) {
  test::TempDir dir;
  const std::string path = dir.file("tok.gguf");
  auto load = [&](const GgufWriter& w) -> Result<Tokenizer> {
    if (auto written = w.write(path); !written) return Unexpected{written.error()};
    return load_gguf(path);
  };
  {
    auto tok = load(tiny_writer());
    ASSERT_TRUE(tok) << tok.error().message;
    EXPECT_EQ(tok->encode("abab", false), std::vector<int32_t>({2, 2}));
    EXPECT_EQ(tok->eos_id(), 3);
    EXPECT_EQ(tok->bos_id(), -1);
    EXPECT_EQ(tok->encode("ab<|endoftext|>", false, true), std::vector<int32_t>({2, 3}));
  }
  struct Case {
    GgufWriter writer;
    std::string message;
  };
  std::vector<Case> cases;
  {
    GgufWriter w;
    w.add_string_array("tokenizer.ggml.tokens", {"a"});
    cases.push_back({w, "tokenizer.ggml.model"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_string("tokenizer.ggml.model", "bert");
    cases.push_back({w, "\"bert\" is not supported"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_string("tokenizer.ggml.pre", "deepseek-coder");
    cases.push_back({w, "tokenizer.ggml.pre \"deepseek-coder\""});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_string_array("tokenizer.ggml.merges", {"a b", "b z"});
    cases.push_back({w, "merges[1] 'b z'"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_string_array("tokenizer.ggml.merges", {"ab"});
    cases.push_back({w, "tokenizer.ggml.merges[0] \"ab\""});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_int32_array("tokenizer.ggml.token_type", {1, 1, 9, 3});
    cases.push_back({w, "token_type[2] = 9"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_int32_array("tokenizer.ggml.token_type", {1, 1});
    cases.push_back({w, "2 token types for 4 tokens"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_uint32("tokenizer.ggml.eos_token_id", 4);
    cases.push_back({w, "EOS id 4"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_string("tokenizer.ggml.tokens", "a");
    cases.push_back({w, "tokenizer.ggml.tokens"});
  }
  {
    GgufWriter w = tiny_writer();
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_float_array("tokenizer.ggml.scores", {0.0f});
    cases.push_back({w, "1 scores for 4 tokens"});
  }
  for (const Case& c : cases) {
    auto tok = load(c.writer);
    ASSERT_FALSE(tok) << c.message;
    EXPECT_NE(tok.error().message.find(c.message), std::string::npos) << tok.error().message;
    EXPECT_NE(tok.error().message.find("tok.gguf"), std::string::npos) << tok.error().message;
  }
}

}  // namespace
}  // namespace helix
