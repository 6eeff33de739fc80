// Bad files and odd text: clear errors naming the culprit, defined results, never a crash.
#include <fstream>

#include <gtest/gtest.h>

#include "model/synthetic_vocab.h"
#include "model/tokenizer.h"
#include "model/tokenizer_loaders.h"
#include "model/tokenizer_vectors.h"
#include "test_util.h"

namespace helix {
namespace {

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST(TokenizerMalformed, TruncatedLlama2cBin) {
  const std::string original = test::read_file_bytes(test::shared_path("models/stories260K/tok512.bin"));
  ASSERT_EQ(original.size(), 6227u);
  test::TempDir dir;
  const std::string path = dir.file("tok.bin");
  int truncated_errors = 0;
  for (size_t size = 0; size < original.size(); size += (size < 64 ? 1 : 37)) {
    write_file(path, std::string_view(original).substr(0, size));
    // With the checkpoint's vocab size every cut fails; the message names the file.
    auto expected = load_llama2c_tokenizer(path, 512);
    ASSERT_FALSE(expected.has_value()) << size;
    EXPECT_TRUE(contains(expected.error().message, path)) << expected.error().message;
    // Without it a cut between two tokens is a valid shorter vocabulary; any other cut is an error.
    auto any = load_llama2c_tokenizer(path);
    if (!any) {
      truncated_errors += contains(any.error().message, "truncated") ? 1 : 0;
    } else {
      EXPECT_LT(any->vocab_size(), 512);
      (void)any->encode("Once upon a time \xF0\x9F\x98\x80", true);
    }
  }
  EXPECT_GT(truncated_errors, 50);
}

TEST(TokenizerMalformed, CorruptLlama2cBin) {
  test::TempDir dir;
  const std::string path = dir.file("tok.bin");
  auto header = [](int32_t max_len, float score, int32_t length, std::string_view text) {
    std::string bytes(4 + 8, '\0');
    std::memcpy(bytes.data(), &max_len, 4);
    std::memcpy(bytes.data() + 4, &score, 4);
    std::memcpy(bytes.data() + 8, &length, 4);
    return bytes + std::string(text);
  };
  write_file(path, header(0, 0.0f, 1, "a"));
  auto r = load_llama2c_tokenizer(path);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "max_token_length")) << r.error().message;
  write_file(path, header(4, 0.0f, -5, ""));
  r = load_llama2c_tokenizer(path);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "token 0: length -5")) << r.error().message;
  write_file(path, header(4, 0.0f, 100, "abcd"));
  r = load_llama2c_tokenizer(path);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "length 100")) << r.error().message;
  write_file(path, "");
  EXPECT_FALSE(load_llama2c_tokenizer(path));
  EXPECT_FALSE(load_llama2c_tokenizer(dir.file("missing.bin")));
}

// A small byte-level tokenizer.json: vocab {a, b, ab, Ġ, Ġab, <|endoftext|>}, merges "a b", "Ġ ab".
std::string tiny_json(std::string_view merges = R"(["a b", "Ġ ab"])",
                      std::string_view vocab = R"({"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4})",
                      std::string_view pre = R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})",
                      std::string_view extra = "") {
  return fmt::format(
      R"({{"added_tokens": [{{"id": 5, "content": "<|endoftext|>", "special": true}}], {} "pre_tokenizer": {},
          "model": {{"type": "BPE", "vocab": {}, "merges": {}}}}})",
      extra, pre, vocab, merges);
}

Result<Tokenizer> load_json(const test::TempDir& dir, const std::string& text) {
  const std::string path = dir.file("tokenizer.json");
  write_file(path, text);
  return load_hf_tokenizer(path);
}

TEST(TokenizerMalformed, TinyTokenizerJsonWorks) {
  test::TempDir dir;
  auto tok = load_json(dir, tiny_json());
  ASSERT_TRUE(tok) << tok.error().message;
  // "ab ab" -> words "ab", " ab" -> [a b] -> ab (2); [Ġ a b] -> Ġ ab (rank 0) -> Ġab (4).
  EXPECT_EQ(tok->encode("ab ab", false), std::vector<int32_t>({2, 4}));
  EXPECT_EQ(tok->eos_id(), 5);  // no config.json beside it: found by name among the special added tokens
  EXPECT_EQ(tok->bos_id(), -1);
  EXPECT_FALSE(tok->add_bos_default());
}

TEST(TokenizerMalformed, TokenizerJsonErrors) {
  test::TempDir dir;
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{not json", "not valid JSON"},
      {"[1, 2]", "expected a JSON object"},
      {R"({"added_tokens": []})", "\"model\" is missing"},
      {R"({"model": {"type": "BPE", "merges": []}})", "model.vocab is missing"},
      {R"({"model": {"type": "WordPiece", "vocab": {}}})", "model.type \"WordPiece\""},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}}})", "model.merges is missing"},
      {tiny_json(R"(["a c"])"), "merges[0] 'a c': its right part is not in the vocabulary"},
      {tiny_json(R"(["b a"])"), "merges[0] 'b a': the merged token is not in the vocabulary"},
      {tiny_json(R"(["ab"])"), "merges[0] \"ab\": expected two tokens"},
      {tiny_json(R"([["a", "b"], 7])"), "merges[1]: expected"},
      {tiny_json(R"([])", R"({"a": 0, "b": 2})"), "no token has id 1"},
      {tiny_json(R"([])", R"({"a": -1})"), "model.vocab[\"a\"]: id -1"},
      {tiny_json(R"([])", R"({"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4})", R"({"type": "Whitespace"})"),
       "pre-tokenizer type \"Whitespace\" is not supported"},
      {tiny_json(R"([])", R"({"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4})",
                 R"({"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"})"),
       "no splitter for this regex"},
      {tiny_json(R"([])", R"({"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4})", R"({"type": "Digits"})"),
       "only byte-level BPE"},
      {tiny_json(R"([])", R"({"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4})",
                 R"({"type": "ByteLevel", "add_prefix_space": false})", R"("normalizer": {"type": "NFC"},)"),
       "normalizer"},
  };
  for (const Case& c : cases) {
    auto r = load_json(dir, c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_TRUE(contains(r.error().message, c.message)) << r.error().message << "\nwanted: " << c.message;
    EXPECT_TRUE(contains(r.error().message, "tokenizer.json")) << r.error().message;
  }
}

TEST(TokenizerMalformed, BytesWithoutTokensAreDroppedOrUnknown) {
  test::TempDir dir;
  auto tok = load_json(dir, tiny_json());
  ASSERT_TRUE(tok) << tok.error().message;
  // 'c' has no byte-level token and there is no unk_token: nothing is emitted for it.
  EXPECT_EQ(tok->encode("acb", false), std::vector<int32_t>({0, 1}));
}

TEST(TokenizerMalformed, InvalidUtf8TextRoundTrips) {
  const std::vector<std::string> texts = {"\xFF", "a\xC3", "\xE2\x96", "x\xED\xA0\x80y", "\xC0\x80 \xF8\x88\x80\x80\x80 z"};
  auto spm = load_llama2c_tokenizer(test::shared_path("models/tokenizers/llama2-32k/tokenizer.bin"));
  auto bpe = load_hf_tokenizer(test::shared_path("models/tokenizers/smollm2/tokenizer.json"));
  ASSERT_TRUE(spm && bpe);
  for (const std::string& text : texts) {
    // Each invalid byte is encoded alone as its <0xNN> piece and comes back as it was.
    EXPECT_EQ(spm->decode(spm->encode(text, true)), text);
  }
  // Byte-level: invalid bytes are chars of their own, so they round-trip too where the vocab has their
  // char. SmolLM2's has none for 0xC0, 0xC1, 0xF5-0xFF (never in UTF-8): those are dropped, as Hugging
  // Face's BPE drops chars it has no token for when there is no unk_token.
  for (const std::string text : {"a\xC3", "\xE2\x96", "x\xED\xA0\x80y", "\xF0\x9F!"}) {
    EXPECT_EQ(bpe->decode(bpe->encode(text, false)), text);
  }
  EXPECT_EQ(bpe->decode(bpe->encode("\xC0\x80 \xF8\x88\x80\x80\x80 z", false)), "\x80 \x88\x80\x80\x80 z");
  // 0xFF -> <0xFF> = 3 + 255 = 258 after the prefix space ▁ (29871).
  EXPECT_EQ(spm->encode("\xFF", false), std::vector<int32_t>({29871, 258}));
}

TEST(TokenizerMalformed, BadSpecRefused) {
  TokenizerSpec spec;
  spec.source = "spec";
  EXPECT_TRUE(contains(Tokenizer::create(spec).error().message, "empty"));
  spec.tokens = {"a", "b"};
  spec.bos_id = 5;
  EXPECT_TRUE(contains(Tokenizer::create(spec).error().message, "BOS id 5"));
  spec.bos_id = -1;
  spec.scores = {0.0f};
  EXPECT_TRUE(contains(Tokenizer::create(spec).error().message, "1 scores for 2 tokens"));
  spec.scores = {};
  spec.types = {TokenType::Byte, TokenType::Normal};
  EXPECT_TRUE(contains(Tokenizer::create(spec).error().message, "<0xNN>"));
}

TEST(TokenizerMalformed, SyntheticVocabularyRoundTrips) {
  auto vocab = make_synthetic_vocab(1000);
  ASSERT_TRUE(vocab) << vocab.error().message;
  auto tok = synthetic_tokenizer(*vocab);
  ASSERT_TRUE(tok) << tok.error().message;
  const std::string text = "the quick brown fox \xE2\x9C\x85 42";
  const auto ids = tok->encode(text, true);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(tok->decode(ids), text);
}

}  // namespace
}  // namespace helix
