#include "model/synthetic_vocab.h"

#include <set>

#include <gtest/gtest.h>

namespace helix {
namespace {

TEST(SyntheticVocab, ExactSizeUniqueAndLaidOutLikeLlama) {
  for (int64_t size : {354, 512, 32000, 49152}) {
    auto v = make_synthetic_vocab(size);
    ASSERT_TRUE(v) << v.error().message;
    ASSERT_EQ(static_cast<int64_t>(v->tokens.size()), size);
    EXPECT_EQ(v->scores.size(), v->tokens.size());
    EXPECT_EQ(v->token_types.size(), v->tokens.size());
    EXPECT_EQ(std::set<std::string>(v->tokens.begin(), v->tokens.end()).size(), v->tokens.size());
    EXPECT_EQ(v->tokens[1], "<s>");
    EXPECT_EQ(v->tokens[2], "</s>");
    EXPECT_EQ(v->tokens[3], "<0x00>");   // byte pieces at 3..258, as in Llama's vocab
    EXPECT_EQ(v->tokens[258], "<0xFF>");
    EXPECT_EQ(v->token_types[3], static_cast<int32_t>(TokenType::Byte));
  }
}

TEST(SyntheticVocab, RefusesTooSmall) {
  auto v = make_synthetic_vocab(100);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("vocab_size"), std::string::npos);
}

}  // namespace
}  // namespace helix
