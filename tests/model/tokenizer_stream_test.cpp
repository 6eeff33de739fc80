// Streaming decoding: ids one at a time give the bytes of decode(all ids), never half a UTF-8 char.
#include <gtest/gtest.h>

#include "model/tokenizer.h"
#include "model/tokenizer_loaders.h"
#include "model/utf8.h"
#include "test_util.h"

namespace helix {
namespace {

bool complete_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Unit unit = utf8_decode_at(text, pos);
    if (!unit.valid) return false;
    pos += unit.length;
  }
  return true;
}

const std::vector<std::string> kTexts = {
    "Hello \xF0\x9F\xA6\x99 world",                                        // 🦙
    "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C",      // 你好，世界
    "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD \xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",  // 👍🏽 👨‍👩
    "Zo\xC3\xAB and \xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4\n\xE2\x9C\x85",  // Zoë and 한국어 ✅
};

// Streams `ids` and checks each chunk; returns how many pushes held bytes back.
int check_stream(const Tokenizer& tok, const std::vector<int32_t>& ids, const std::string& expected) {
  TokenStreamDecoder decoder(tok);
  std::string streamed;
  int held = 0;
  int32_t prev = -1;
  for (const int32_t id : ids) {
    const std::string chunk = decoder.push(id);
    EXPECT_TRUE(complete_utf8(chunk)) << "id " << id;
    if (chunk.size() < tok.decode_piece(prev, id).size()) ++held;
    streamed += chunk;
    prev = id;
  }
  streamed += decoder.flush();
  EXPECT_EQ(streamed, tok.decode(ids));
  EXPECT_EQ(streamed, expected);
  return held;
}

TEST(TokenizerStream, SentencePieceByteFallback) {
  auto tok = load_llama2c_tokenizer(test::shared_path("models/tokenizers/llama2-32k/tokenizer.bin"));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  int held = 0;
  for (const std::string& text : kTexts) held += check_stream(*tok, tok->encode(text, true), text);
  EXPECT_GT(held, 0);  // emoji are byte-fallback tokens in the 32k vocab: some bytes had to wait
}

TEST(TokenizerStream, Tok512MostlyBytes) {
  auto tok = load_llama2c_tokenizer(test::shared_path("models/stories260K/tok512.bin"));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  int held = 0;
  for (const std::string& text : kTexts) held += check_stream(*tok, tok->encode(text, true), text);
  EXPECT_GT(held, 0);
  // ë = <0xC3> (198) <0xAB> (174): the first byte is held until the second comes.
  TokenStreamDecoder decoder(*tok, /*prev_id=*/1);
  EXPECT_EQ(decoder.push(198), "");
  EXPECT_EQ(decoder.push(174), "\xC3\xAB");
  // An unfinished char at the end comes out of flush() as raw bytes.
  EXPECT_EQ(decoder.push(198), "");
  EXPECT_EQ(decoder.flush(), "\xC3");
  EXPECT_EQ(decoder.flush(), "");
}

TEST(TokenizerStream, ByteLevelSplitsChars) {
  auto tok = load_hf_tokenizer(test::shared_path("models/tokenizers/smollm2/tokenizer.json"));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  int held = 0;
  for (const std::string& text : kTexts) held += check_stream(*tok, tok->encode(text, false), text);
  EXPECT_GT(held, 0);  // "ĠðŁ" then "ĳ": an emoji's bytes span tokens
}

TEST(TokenizerStream, PrevIdDropsSpaceAfterBos) {
  auto tok = load_llama2c_tokenizer(test::shared_path("models/stories260K/tok512.bin"));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  // Generation from BOS: the first piece loses its leading space (llama2.c prints "Once", not " Once").
  TokenStreamDecoder from_bos(*tok, 1);
  EXPECT_EQ(from_bos.push(403), "Once");
  EXPECT_EQ(from_bos.push(407), " upon");
  // Continuing a prompt: the space stays.
  TokenStreamDecoder after_prompt(*tok, 407);
  EXPECT_EQ(after_prompt.push(261), " a");
}

}  // namespace
}  // namespace helix
