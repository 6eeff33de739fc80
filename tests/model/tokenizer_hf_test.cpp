// Byte-level BPE from a Hugging Face tokenizer.json: SmolLM2's vectors (the Rust library's ids).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/tokenizer.h"
#include "model/tokenizer_loaders.h"
#include "model/tokenizer_vectors.h"
#include "test_util.h"

namespace helix {
namespace {

Tokenizer load_smollm2() {
  auto tokenizer = load_hf_tokenizer(test::shared_path("models/tokenizers/smollm2/tokenizer.json"));
  EXPECT_TRUE(tokenizer.has_value()) << (tokenizer ? "" : tokenizer.error().message);
  return std::move(tokenizer).value();
}

TEST(TokenizerHf, SmolLM2Vocabulary) {
  const Tokenizer tok = load_smollm2();
  EXPECT_EQ(tok.kind(), TokenizerKind::kByteLevelBpe);
  EXPECT_EQ(tok.vocab_size(), 49152);
  // From config.json beside tokenizer.json: bos 1 (<|im_start|>), eos 2 (<|im_end|>).
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  // No post-processor: nothing is added by default.
  EXPECT_FALSE(tok.add_bos_default());
  EXPECT_EQ(tok.token_text(0), "<|endoftext|>");
  EXPECT_EQ(tok.token_type(0), TokenType::Control);
  EXPECT_EQ(tok.token_type(16), TokenType::Control);
  EXPECT_EQ(tok.token_type(17), TokenType::Normal);
  // <|endoftext|> and <|im_end|> both end generation.
  EXPECT_EQ(tok.eog_ids(), std::vector<int32_t>({0, 2}));
  EXPECT_TRUE(tok.is_eog(2));
  EXPECT_FALSE(tok.is_eog(1));
}

TEST(TokenizerHf, SmolLM2AllVectors) {
  const Tokenizer tok = load_smollm2();
  const auto data = nlohmann::json::parse(test::read_file_bytes(test::shared_path("testdata/smollm2-bpe-vectors.json")));
  const auto& cases = data["cases"];
  ASSERT_EQ(cases.size(), 56u);
  int passed = 0;
  int round_trips = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string input = cases[i]["input"].get<std::string>();
    const auto expected = cases[i]["ids"].get<std::vector<int32_t>>();
    const auto ids = tok.encode(input, false);
    EXPECT_EQ(ids, expected) << "case " << i << ": \"" << input << "\"";
    EXPECT_EQ(tok.decode(expected), input) << "case " << i;
    passed += ids == expected ? 1 : 0;
    round_trips += tok.decode(ids) == input ? 1 : 0;
  }
  EXPECT_EQ(passed, 56);
  EXPECT_EQ(round_trips, 56);
}

TEST(TokenizerHf, NumericCharsAreIsolatedLikeRust) {
  const Tokenizer tok = load_smollm2();
  // Digits(individual_digits) isolates every Unicode numeric char (Nd, Nl, No), so ½ is its own word:
  // "Â½" = 16738. The JS library keeps "Ġ½" together as 3351 138.
  EXPECT_EQ(tok.encode("ied 4 \xC2\xBD months", false), std::vector<int32_t>({885, 216, 36, 216, 16738, 2704}));
}

TEST(TokenizerHf, SpecialTokensOnlyWhenAsked) {
  const Tokenizer tok = load_smollm2();
  const std::string text = "<|im_start|>user\nHi<|im_end|>";
  const auto special = tok.encode(text, false, true);
  ASSERT_GE(special.size(), 3u);
  EXPECT_EQ(special.front(), 1);
  EXPECT_EQ(special.back(), 2);
  // The text between is encoded as plain text: same ids as on its own.
  const auto middle = tok.encode("user\nHi", false);
  EXPECT_EQ(std::vector<int32_t>(special.begin() + 1, special.end() - 1), middle);
  const auto plain = tok.encode(text, false, false);
  for (const int32_t id : plain) {
    EXPECT_NE(tok.token_type(id), TokenType::Control) << id;
  }
  EXPECT_EQ(tok.decode(plain), text);
  EXPECT_EQ(tok.decode(special), "user\nHi");
  EXPECT_EQ(tok.decode(special, /*render_special=*/true), text);
}

}  // namespace
}  // namespace helix
