// Hand-written pre-tokenizer splitters and the Unicode / UTF-8 / byte-level helpers under them.
#include "model/pre_tokenizer.h"

#include <gtest/gtest.h>

#include "model/byte_level.h"
#include "model/unicode_tables.h"
#include "model/utf8.h"

namespace helix {
namespace {

std::vector<std::string> split(std::string_view text, std::vector<PreTokenizerStep> steps) {
  std::vector<std::string> words;
  for (const TextPiece& piece : pre_tokenize(text, steps)) {
    words.emplace_back(text.substr(piece.begin, piece.end - piece.begin));
  }
  return words;
}

using Words = std::vector<std::string>;
constexpr auto kGpt2 = PreTokenizerStep::kGpt2Regex;
constexpr auto kLlama3 = PreTokenizerStep::kLlama3Regex;

TEST(PreTokenizer, Gpt2Regex) {
  EXPECT_EQ(split("Hello world", {kGpt2}), Words({"Hello", " world"}));
  // \s+(?!\S) leaves the last space of a run to the word after it.
  EXPECT_EQ(split("a   b", {kGpt2}), Words({"a", "  ", " b"}));
  EXPECT_EQ(split("a  ", {kGpt2}), Words({"a", "  "}));
  EXPECT_EQ(split("I'm 12 years!!", {kGpt2}), Words({"I", "'m", " 12", " years", "!!"}));
  // Only ' ' attaches to the next word; a tab run gives back its last tab, which stands alone.
  EXPECT_EQ(split("\t\tx", {kGpt2}), Words({"\t", "\t", "x"}));
  EXPECT_EQ(split("it's 'RE", {kGpt2}), Words({"it", "'s", " '", "RE"}));
  EXPECT_EQ(split("", {kGpt2}), Words());
}

TEST(PreTokenizer, Llama3Regex) {
  EXPECT_EQ(split("1234567", {kLlama3}), Words({"123", "456", "7"}));
  EXPECT_EQ(split("Hello\n\nworld", {kLlama3}), Words({"Hello", "\n\n", "world"}));
  // Contractions ignore case; any one non-letter, non-newline char may lead a word.
  EXPECT_EQ(split(" I'M", {kLlama3}), Words({" I", "'M"}));
  EXPECT_EQ(split("\tx", {kLlama3}), Words({"\tx"}));
  // \s*[\r\n]+ takes the run up to its last newline; " y" follows.
  EXPECT_EQ(split("x  \n y", {kLlama3}), Words({"x", "  \n", " y"}));
  EXPECT_EQ(split("a!!\n\nb", {kLlama3}), Words({"a", "!!\n\n", "b"}));
}

TEST(PreTokenizer, DigitsThenGpt2) {
  // ½ (U+00BD) is No: numeric, so isolated like an ASCII digit.
  EXPECT_EQ(split("a12\xC2\xBD" "b", {PreTokenizerStep::kDigitsIndividual}), Words({"a", "1", "2", "\xC2\xBD", "b"}));
  EXPECT_EQ(split("a12\xC2\xBD" "b", {PreTokenizerStep::kDigitsContiguous}), Words({"a", "12\xC2\xBD", "b"}));
  EXPECT_EQ(split("ied 4 \xC2\xBD months", {PreTokenizerStep::kDigitsIndividual, kGpt2}),
            Words({"ied", " ", "4", " ", "\xC2\xBD", " months"}));
}

TEST(PreTokenizer, InvalidUtf8BytesAreOtherChars) {
  EXPECT_EQ(split("a\xFF\xFE" "b", {kGpt2}), Words({"a", "\xFF\xFE", "b"}));
  EXPECT_EQ(split("\xC3", {kLlama3}), Words({"\xC3"}));
}

TEST(UnicodeTables, Classes) {
  EXPECT_EQ(codepoint_flags('a'), kCpLetter);
  EXPECT_EQ(codepoint_flags(0xE9), kCpLetter);    // é
  EXPECT_EQ(codepoint_flags(0x4E2D), kCpLetter);  // 中
  EXPECT_EQ(codepoint_flags('5'), kCpNumber);
  EXPECT_EQ(codepoint_flags(0xBD), kCpNumber);    // ½ (No)
  EXPECT_EQ(codepoint_flags(0x2163), kCpNumber);  // Ⅳ (Nl)
  EXPECT_EQ(codepoint_flags(' '), kCpWhitespace);
  EXPECT_EQ(codepoint_flags(0x85), kCpWhitespace);
  EXPECT_EQ(codepoint_flags(0x3000), kCpWhitespace);
  EXPECT_EQ(codepoint_flags('!'), 0);
  EXPECT_EQ(codepoint_flags(0x1F600), 0);  // 😀 (So)
  EXPECT_EQ(codepoint_flags(0x10FFFF), 0);
  // Ranges are sorted and disjoint, so the binary search is valid.
  for (size_t i = 1; i < kCodepointRangeCount; ++i) {
    ASSERT_GT(kCodepointRanges[i].first, kCodepointRanges[i - 1].last) << i;
  }
}

TEST(Utf8, DecodeIsLenient) {
  EXPECT_EQ(utf8_decode_at("\xE2\x96\x81", 0).cp, 0x2581u);
  EXPECT_EQ(utf8_decode_at("\xE2\x96\x81", 0).length, 3);
  EXPECT_FALSE(utf8_decode_at("\xC0\x80", 0).valid);      // overlong
  EXPECT_FALSE(utf8_decode_at("\xED\xA0\x80", 0).valid);  // surrogate
  EXPECT_FALSE(utf8_decode_at("\xF4\x90\x80\x80", 0).valid);  // > U+10FFFF
  EXPECT_FALSE(utf8_decode_at("\xE2\x96", 0).valid);      // truncated
  EXPECT_EQ(utf8_decode_at("\xE2\x96", 0).length, 1);
}

TEST(Utf8, IncompleteTail) {
  EXPECT_EQ(utf8_incomplete_tail(""), 0u);
  EXPECT_EQ(utf8_incomplete_tail("ab"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("a\xF0\x9F"), 2u);      // 2 of 4 bytes of an emoji
  EXPECT_EQ(utf8_incomplete_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(utf8_incomplete_tail("a\xF0\x9F\x98\x80"), 0u);
  EXPECT_EQ(utf8_incomplete_tail("\xC3"), 1u);
  EXPECT_EQ(utf8_incomplete_tail("\xFF"), 0u);           // never valid: nothing to wait for
  EXPECT_EQ(utf8_incomplete_tail("\xE0\x80"), 0u);       // overlong start: never valid
  EXPECT_EQ(utf8_incomplete_tail("\x80\x80"), 0u);
}

TEST(ByteLevel, Gpt2Map) {
  EXPECT_EQ(byte_level_char(' '), "\xC4\xA0");   // Ġ U+0120: the 33rd unprintable byte (0x00-0x20)
  EXPECT_EQ(byte_level_char('\n'), "\xC4\x8A");  // Ċ U+010A = 0x100 + 10
  EXPECT_EQ(byte_level_char('a'), "a");
  EXPECT_EQ(byte_level_char(0xAD), "\xC5\x83");  // Ń U+0143: the last of the 68
  for (int b = 0; b < 256; ++b) {
    const Utf8Unit unit = utf8_decode_at(byte_level_char(static_cast<uint8_t>(b)), 0);
    EXPECT_EQ(byte_level_byte(unit.cp), b);
  }
  EXPECT_EQ(byte_level_byte(0x144), -1);
  EXPECT_EQ(byte_level_byte(0x20), -1);  // a raw space is not in the map
}

}  // namespace
}  // namespace helix
