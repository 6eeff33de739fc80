// ChoiceText over stories260K's tokenizer: streamed pieces concatenate to the decoded text, UTF-8 is never split,
// stop strings cut the output before them and text that may start one is held back.
#include "server/choice_text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fake_engine.h"

namespace helix::server {
namespace {

const Tokenizer& tok() { return test::stories_tokenizer(); }

// Pushes every token of `text` (encoded after BOS) and returns the pieces, finish() last.
std::vector<std::string> stream_pieces(const std::string& text, std::vector<std::string> stop, bool* stopped = nullptr) {
  ChoiceText choice(tok(), tok().bos_id(), std::move(stop));
  std::vector<std::string> pieces;
  for (int32_t id : tok().encode(text, false)) pieces.push_back(choice.push(id));
  pieces.push_back(choice.finish());
  if (stopped) *stopped = choice.stopped();
  return pieces;
}

std::string join(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

TEST(ChoiceText, WithoutStopStringsEveryTokenIsSentAtOnce) {
  const std::string text = "Once upon a time, there was a little girl named Lily.";
  const auto ids = tok().encode(text, false);
  const auto pieces = stream_pieces(text, {});
  ASSERT_EQ(pieces.size(), ids.size() + 1);
  EXPECT_EQ(join(pieces), text);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_FALSE(pieces[i].empty()) << "token " << i << " was held back";
  EXPECT_EQ(pieces.back(), "");
}

TEST(ChoiceText, MultiByteCharactersAreNeverSplit) {
  // stories260K has no pieces for these: they are byte-fallback tokens, one byte each.
  const std::string text = "Lily saw \xE2\x82\xAC and \xF0\x9F\x98\x80!";  // €, 😀
  const auto ids = tok().encode(text, false);
  const auto pieces = stream_pieces(text, {});
  EXPECT_EQ(join(pieces), text);
  EXPECT_GT(ids.size(), tok().encode("Lily saw  and !", false).size() + 2);  // the characters took byte tokens
  for (const auto& p : pieces) {
    // Each piece is whole UTF-8: no piece ends inside a character.
    size_t i = 0;
    while (i < p.size()) {
      const unsigned char c = p[i];
      const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
      ASSERT_LE(i + len, p.size()) << "piece splits a character: " << p;
      i += len;
    }
  }
}

TEST(ChoiceText, StopStringCutsBeforeItAndEnds) {
  bool stopped = false;
  const auto pieces = stream_pieces("Once upon a time, there was a little girl.", {"there"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(join(pieces), "Once upon a time, ");
}

TEST(ChoiceText, EarliestOfSeveralStopStringsWins) {
  bool stopped = false;
  const auto pieces = stream_pieces("Once upon a time, there was a little girl.", {"little", "a time"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(join(pieces), "Once upon ");
}

TEST(ChoiceText, PossibleStartOfAStopStringIsHeldBack) {
  ChoiceText choice(tok(), tok().bos_id(), {"upon a hill"});
  const auto ids = tok().encode("Once upon a time", false);
  std::string sent;
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(choice.push(id));
  // "Once" goes out; " upon", " a" could still become "upon a hill" and wait; " time" settles it.
  ASSERT_GE(pieces.size(), 4u);
  EXPECT_EQ(pieces[0], "Once");
  EXPECT_EQ(pieces[1], " ");  // the space before "upon" is not part of the stop string
  EXPECT_EQ(pieces[2], "");
  EXPECT_EQ(join(pieces) + choice.finish(), "Once upon a time");
  EXPECT_FALSE(choice.stopped());
}

TEST(ChoiceText, StopStringSpanningTokensAndHeldTextAtTheEndIsSent) {
  bool stopped = false;
  // "girl named" spans tokens; the text before it is complete.
  auto pieces = stream_pieces("a little girl named Lily", {"girl named"}, &stopped);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(join(pieces), "a little ");
  // Generation ends on a possible start: finish() releases it.
  pieces = stream_pieces("a little gir", {"girl"}, &stopped);
  EXPECT_FALSE(stopped);
  EXPECT_EQ(join(pieces), "a little gir");
  EXPECT_EQ(pieces.back(), "gir");
}

TEST(ChoiceText, CountsTokensUpToTheStop) {
  ChoiceText choice(tok(), tok().bos_id(), {"time"});
  const auto ids = tok().encode("Once upon a time, there", false);
  for (int32_t id : ids) choice.push(id);
  // Pushes after the stop are ignored and not counted.
  const auto before = tok().encode("Once upon a time", false).size();
  EXPECT_EQ(choice.tokens(), static_cast<int64_t>(before));
  EXPECT_EQ(choice.text(), "Once upon a ");
}

}  // namespace
}  // namespace helix::server
