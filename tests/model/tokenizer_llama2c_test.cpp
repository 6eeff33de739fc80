// SentencePiece tokenizer from llama2.c .bin files: stories260K's tok512.bin and Llama 2's 32k vocab.
#include <algorithm>
#include <optional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/tokenizer.h"
#include "model/tokenizer_loaders.h"
#include "model/tokenizer_vectors.h"
#include "test_util.h"

namespace helix {
namespace {

Tokenizer load_tok512() {
  auto tokenizer = load_llama2c_tokenizer(test::shared_path("models/stories260K/tok512.bin"), 512);
  EXPECT_TRUE(tokenizer.has_value()) << (tokenizer ? "" : tokenizer.error().message);
  return std::move(tokenizer).value();
}

TEST(TokenizerLlama2c, Tok512Vocabulary) {
  const Tokenizer tok = load_tok512();
  EXPECT_EQ(tok.kind(), TokenizerKind::kSentencePiece);
  EXPECT_EQ(tok.vocab_size(), 512);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.unk_id(), 0);
  EXPECT_TRUE(tok.add_bos_default());
  // "\n<s>\n" / "\n</s>\n" in the file are SentencePiece's <s> / </s>; spaces are '▁' again.
  EXPECT_EQ(tok.token_text(1), "<s>");
  EXPECT_EQ(tok.token_text(2), "</s>");
  EXPECT_EQ(tok.token_type(1), TokenType::Control);
  EXPECT_EQ(tok.token_type(0), TokenType::Unknown);
  EXPECT_EQ(tok.token_text(3), "<0x00>");
  EXPECT_EQ(tok.token_type(3), TokenType::Byte);
  EXPECT_EQ(tok.token_text(265), "\xE2\x96\x81the");
  EXPECT_FLOAT_EQ(tok.token_score(265), -6.0f);
  EXPECT_EQ(tok.eog_ids(), std::vector<int32_t>({2}));
  EXPECT_EQ(tok.token_text(-1), "");
  EXPECT_EQ(tok.token_text(512), "");
}

TEST(TokenizerLlama2c, Tok512HandCheckedIds) {
  const Tokenizer tok = load_tok512();
  // "the" -> ▁ t h e. Pairs in the vocab: ▁t (259, score 0), he (260, -1). ▁t merges first; then
  // ▁th (308, -49) and he (-1): he merges; then ▁t+he = ▁the (265, -6).
  EXPECT_EQ(tok.encode("the", false), std::vector<int32_t>({265}));
  EXPECT_EQ(tok.encode("the", true), std::vector<int32_t>({1, 265}));
  // ▁Once (403) ▁upon (407) ▁a (261) ▁time (378): the first four ids of the greedy story.
  EXPECT_EQ(tok.encode("Once upon a time", false), std::vector<int32_t>({403, 407, 261, 378}));
  // No "▁Z", "Zo" or "ë" piece: ▁ (410) Z (469) o (414), then ë = C3 AB as bytes: id = 3 + byte,
  // 3 + 0xC3 = 198, 3 + 0xAB = 174.
  EXPECT_EQ(tok.encode("Zo\xC3\xAB", false), std::vector<int32_t>({410, 469, 414, 198, 174}));
  // "\n" has no piece: ▁ (410) then <0x0A> = 3 + 10 = 13.
  EXPECT_EQ(tok.encode("\n", false), std::vector<int32_t>({410, 13}));
  EXPECT_EQ(tok.encode("", false), std::vector<int32_t>());
  EXPECT_EQ(tok.encode("", true), std::vector<int32_t>({1}));
}

TEST(TokenizerLlama2c, Tok512Decode) {
  const Tokenizer tok = load_tok512();
  const std::vector<int32_t> ids = {1, 403, 407, 261, 378};
  EXPECT_EQ(tok.decode(ids), "Once upon a time");
  EXPECT_EQ(tok.decode(ids, /*render_special=*/true), "<s>Once upon a time");
  // The prepended space is dropped at the start and right after BOS only.
  EXPECT_EQ(tok.decode_piece(-1, 407), "upon");
  EXPECT_EQ(tok.decode_piece(1, 407), "upon");
  EXPECT_EQ(tok.decode_piece(403, 407), " upon");
  EXPECT_EQ(tok.decode_piece(403, 13), "\n");
  EXPECT_EQ(tok.decode_piece(403, 2), "");
  EXPECT_EQ(tok.decode_piece(403, 9999), "");
  const std::vector<int32_t> zoe = {410, 469, 414, 198, 174};
  EXPECT_EQ(tok.decode(zoe), "Zo\xC3\xAB");
}

TEST(TokenizerLlama2c, StoriesGreedyTextFromIds) {
  const Tokenizer tok = load_tok512();
  const auto data = nlohmann::json::parse(test::read_file_bytes(test::shared_path("testdata/stories260K-greedy.json")));
  std::vector<int32_t> ids = {data["bos_id"].get<int32_t>()};
  for (const auto& id : data["ids"]) ids.push_back(id.get<int32_t>());
  ASSERT_EQ(ids.size(), 201u);
  // The file's convention: BOS first, leading space of the first piece after BOS dropped, <0xNN> as bytes.
  EXPECT_EQ(tok.decode(ids), data["text"].get<std::string>());
  // Re-encoding the text gives the same ids back (with BOS).
  EXPECT_EQ(tok.encode(data["text"].get<std::string>(), true), ids);
}

TEST(TokenizerLlama2c, Llama2VocabPassesLlamaSpmVectors) {
  auto tok = load_llama2c_tokenizer(test::shared_path("models/tokenizers/llama2-32k/tokenizer.bin"), 32000);
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  const auto cases = test::read_tokenizer_vectors(
      test::shared_path("models/tokenizers/llama-spm-gguf/ggml-vocab-llama-spm.gguf.inp"));
  ASSERT_EQ(cases.size(), 46u);
  int passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = tok->encode(cases[i].input, false);
    EXPECT_EQ(ids, cases[i].ids) << "case " << i << ": \"" << cases[i].input << "\"";
    // SentencePiece prepends a space and decode drops it again: the text comes back exactly.
    EXPECT_EQ(tok->decode(ids), cases[i].input) << "case " << i;
    passed += ids == cases[i].ids ? 1 : 0;
  }
  EXPECT_EQ(passed, 46);
}

TEST(TokenizerLlama2c, ParseSpecialOnlyWhenAsked) {
  const Tokenizer tok = load_tok512();
  // Without parse_special "<s>" is text: ▁ < s > (no "<s" piece) -> 410, 504, ... ; with it, id 1.
  const auto plain = tok.encode("<s>the", false, false);
  EXPECT_EQ(std::find(plain.begin(), plain.end(), 1), plain.end());
  EXPECT_EQ(tok.decode(plain), "<s>the");
  // After a special token the text gets the prefix space again (llama.cpp): ▁the.
  EXPECT_EQ(tok.encode("<s>the", false, true), std::vector<int32_t>({1, 265}));
  EXPECT_EQ(tok.encode("the</s>", false, true), std::vector<int32_t>({265, 2}));
}

TEST(TokenizerLlama2c, CopyOutlivesOriginal) {
  std::optional<Tokenizer> original(load_tok512());
  const Tokenizer copy = *original;
  original.reset();
  // Special-token matching and lookups use only the copy's own data.
  EXPECT_EQ(copy.encode("<s>the", false, true), std::vector<int32_t>({1, 265}));
  EXPECT_EQ(copy.decode(std::vector<int32_t>{1, 265}), "the");
}

}  // namespace
}  // namespace helix
