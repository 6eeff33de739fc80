// The plain chat fallback, byte for byte.
#include "server/chat_prompt.h"

#include <gtest/gtest.h>

namespace helix::server {
namespace {

TEST(ChatPrompt, PlainFallback) {
  const ChatRenderer render = plain_chat_renderer();
  auto one = render({{"user", "Hi"}}, true);
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, "user: Hi\nassistant:");
  auto turns = render({{"system", "Be kind."}, {"user", "Hi"}, {"assistant", " Hello \n there "}, {"user", "Bye"}}, false);
  ASSERT_TRUE(turns);
  EXPECT_EQ(*turns, "system: Be kind.\nuser: Hi\nassistant:  Hello \n there \nuser: Bye\n");
}

}  // namespace
}  // namespace helix::server
