// The chat renderer over the model's template: stories260K has none and gets the plain fallback; a known
// family's template renders the messages as the template itself does, and its refusals name "messages".
#include "server/chat_prompt.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace helix::server {
namespace {

TEST(ChatPrompt, ModelWithoutTemplateGetsThePlainFallback) {
  auto file = open_model_file(test::shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(file) << file.error().message;
  auto render = chat_renderer_for_model(*file);
  ASSERT_TRUE(render) << render.error().message;
  auto one = (*render)({{"user", "Hi"}}, true);
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(*one, "user: Hi\nassistant:");
  auto turns = (*render)({{"system", "Be kind."}, {"user", "Hi"}, {"assistant", "Hello"}}, false);
  ASSERT_TRUE(turns) << turns.error().message;
  EXPECT_EQ(*turns, "system: Be kind.\nuser: Hi\nassistant: Hello\n");
}

TEST(ChatPrompt, FamilyTemplateRendersAsItself) {
  auto zephyr = chat_template_by_name("zephyr");
  ASSERT_TRUE(zephyr) << zephyr.error().message;
  const std::vector<ChatMessage> messages = {{"system", "Be kind."}, {"user", "Hi \xE2\x80\x93 there"}};
  auto expected = zephyr->render(messages, true);
  ASSERT_TRUE(expected);
  auto rendered = chat_renderer(*zephyr)({{"system", "Be kind."}, {"user", "Hi \xE2\x80\x93 there"}}, true);
  ASSERT_TRUE(rendered) << rendered.error().message;
  EXPECT_EQ(*rendered, *expected);
  EXPECT_NE(rendered->find("<|user|>"), std::string::npos);
}

TEST(ChatPrompt, TemplateRefusalNamesMessages) {
  auto llama2 = chat_template_by_name("llama2");
  ASSERT_TRUE(llama2) << llama2.error().message;
  // Llama 2's template requires alternating user/assistant roles.
  auto r = chat_renderer(*llama2)({{"user", "a"}, {"user", "b"}}, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().param, "messages");
}

}  // namespace
}  // namespace helix::server
