// Chat templates: the 16 reference renderings of testdata/chat-templates.json, the built-in families,
// templates from model files, and tokenizing a rendered prompt without a second BOS.
#include "model/chat_template.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "model/gguf_reader.h"
#include "model/known_chat_templates.h"
#include "model/model_file.h"
#include "model/model_test_files.h"
#include "model/tokenizer_loaders.h"
#include "test_util.h"

namespace helix {
namespace {

nlohmann::json load_reference() {
  std::ifstream f(test::shared_path("testdata/chat-templates.json"));
  EXPECT_TRUE(f.good()) << "testdata/chat-templates.json not found";
  return nlohmann::json::parse(f);
}

std::vector<ChatMessage> messages_of(const nlohmann::json& j) {
  std::vector<ChatMessage> out;
  for (const auto& m : j) out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  return out;
}

const nlohmann::json& family(const nlohmann::json& reference, const std::string& name) {
  for (const auto& f : reference["families"]) {
    if (f["family"] == name) return f;
  }
  ADD_FAILURE() << "no family " << name;
  return reference;
}

TEST(ChatTemplateTest, AllReferenceRenderingsAreExact) {
  const auto reference = load_reference();
  int rendered = 0;
  for (const auto& f : reference["families"]) {
    auto tmpl = ChatTemplate::parse(f["template"], f["bos_token"], f["eos_token"]);
    ASSERT_TRUE(tmpl.has_value()) << f["family"] << ": " << tmpl.error().message;
    EXPECT_EQ(tmpl->family(), f["family"].get<std::string>());
    for (const auto& c : f["cases"]) {
      auto out = tmpl->render(messages_of(c["messages"]), c["add_generation_prompt"].get<bool>());
      ASSERT_TRUE(out.has_value()) << f["family"] << "/" << c["name"] << ": " << out.error().message;
      EXPECT_EQ(*out, c["expected"].get<std::string>()) << f["family"] << "/" << c["name"];
      ++rendered;
    }
  }
  EXPECT_EQ(rendered, 16);
}

TEST(ChatTemplateTest, BuiltInFamiliesAreTheReferenceTemplates) {
  const auto reference = load_reference();
  for (const auto& f : reference["families"]) {
    auto tmpl = chat_template_by_name(f["family"].get<std::string>());
    ASSERT_TRUE(tmpl.has_value()) << tmpl.error().message;
    EXPECT_EQ(tmpl->source(), f["template"].get<std::string>());
    EXPECT_EQ(tmpl->bos_token(), f["bos_token"].get<std::string>());
    EXPECT_EQ(tmpl->eos_token(), f["eos_token"].get<std::string>());
    for (const auto& c : f["cases"]) {
      auto out = tmpl->render(messages_of(c["messages"]), c["add_generation_prompt"].get<bool>());
      ASSERT_TRUE(out.has_value());
      EXPECT_EQ(*out, c["expected"].get<std::string>()) << f["family"] << "/" << c["name"];
    }
  }
  auto unknown = chat_template_by_name("vicuna");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message,
            "unknown chat template \"vicuna\" (known: plain, zephyr, llama2, llama3, llama3-older, chatml)");
}

// The first Llama-3-Instruct template appends the assistant header even without add_generation_prompt,
// so its case d renders like case c.
TEST(ChatTemplateTest, Llama3OlderRevisionAlwaysAddsTheAssistantHeader) {
  const auto reference = load_reference();
  const auto& llama3 = family(reference, "llama3");
  ASSERT_TRUE(llama3.contains("older_revision_template"));
  auto tmpl =
      ChatTemplate::parse(llama3["older_revision_template"], llama3["bos_token"], llama3["older_revision_eos_token"]);
  ASSERT_TRUE(tmpl.has_value());
  auto built_in = chat_template_by_name("llama3-older");
  ASSERT_TRUE(built_in.has_value());
  EXPECT_EQ(built_in->source(), tmpl->source());
  std::map<std::string, std::string> expected;
  for (const auto& c : llama3["cases"]) expected[c["name"]] = c["expected"];
  for (const auto& c : llama3["cases"]) {
    const std::string name = c["name"];
    auto out = tmpl->render(messages_of(c["messages"]), c["add_generation_prompt"].get<bool>());
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, expected[name == "d_multi_turn_no_gen" ? "c_multi_turn" : name]) << name;
  }
}

TEST(ChatTemplateTest, Llama2RefusesNonAlternatingRolesThroughRaiseException) {
  auto tmpl = chat_template_by_name("llama2");
  ASSERT_TRUE(tmpl.has_value());
  auto out = tmpl->render({{"user", "one"}, {"user", "two"}}, true);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message, "Conversation roles must alternate user/assistant/user/assistant/...");
  EXPECT_EQ(out.error().param, "messages");
  // After a system message the first turn must still be the user's.
  out = tmpl->render({{"system", "s"}, {"assistant", "a"}}, true);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().param, "messages");
}

TEST(ChatTemplateTest, ErrorsOfBrokenTemplatesNameTheLine) {
  auto broken = ChatTemplate::parse("{% for m in messages %}\n{{ m.content }", "<s>", "</s>");
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().message, "chat template: line 2, column 14: unexpected '}'");
  auto tmpl = ChatTemplate::parse("{{ messages[0].content.nope.deeper }}", "<s>", "</s>");
  ASSERT_TRUE(tmpl.has_value());
  auto out = tmpl->render({{"user", "hi"}}, true);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().message, "chat template: line 1, column 28: 'str object' has no attribute 'nope'");
}

TEST(ChatTemplateTest, FamiliesAndBosOfTheBuiltIns) {
  struct Expect {
    const char* name;
    const char* family;
    bool renders_bos;
  };
  // chatml's bos_token is <|im_start|> (SmolLM2's id 1), which its prompts do start with.
  for (const Expect e :
       {Expect{"zephyr", "zephyr", false}, Expect{"llama2", "llama2", true}, Expect{"llama3", "llama3", true},
        Expect{"llama3-older", "llama3", true}, Expect{"chatml", "chatml", true}, Expect{"plain", "plain", false}}) {
    auto tmpl = chat_template_by_name(e.name);
    ASSERT_TRUE(tmpl.has_value()) << e.name;
    EXPECT_EQ(tmpl->family(), e.family) << e.name;
    EXPECT_EQ(tmpl->renders_bos(), e.renders_bos) << e.name;
  }
  auto custom = ChatTemplate::parse("{% for m in messages %}{{ m.content }}{% endfor %}", "", "");
  ASSERT_TRUE(custom.has_value());
  EXPECT_EQ(custom->family(), "custom");
  auto qwen_like = ChatTemplate::parse(
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
      "{% endfor %}",
      "", "<|im_end|>");
  ASSERT_TRUE(qwen_like.has_value());
  EXPECT_EQ(qwen_like->family(), "chatml");
}

TEST(ChatTemplateTest, PlainFallbackWritesRoleLines) {
  auto tmpl = chat_template_by_name("plain");
  ASSERT_TRUE(tmpl.has_value());
  auto out = tmpl->render({{"system", "Be brief."}, {"user", "Hi"}}, true);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "system: Be brief.\nuser: Hi\nassistant:");
  out = tmpl->render({{"user", "Hi"}}, false);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "user: Hi\n");
}

Result<ModelFile> parse_bytes(const std::vector<uint8_t>& bytes) {
  return parse_model_file("tiny.gguf", bytes.data(), bytes.size());
}

TEST(ChatTemplateTest, TemplateFromGgufMetadataWithBosEosFromItsVocab) {
  auto llama3 = chat_template_by_name("llama3");
  ASSERT_TRUE(llama3.has_value());
  GgufWriter w = test::tiny_llama_writer();
  w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<|begin_of_text|>", "<|eot_id|>", "a"});
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_uint32("tokenizer.ggml.bos_token_id", 1);
  w.add_uint32("tokenizer.ggml.eos_token_id", 2);
  w.add_string("tokenizer.chat_template", llama3->source());
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.has_value());
  auto file = parse_bytes(*bytes);
  ASSERT_TRUE(file.has_value()) << file.error().message;
  auto tmpl = chat_template_for_model(*file);
  ASSERT_TRUE(tmpl.has_value()) << tmpl.error().message;
  EXPECT_EQ(tmpl->family(), "llama3");
  EXPECT_EQ(tmpl->bos_token(), "<|begin_of_text|>");
  EXPECT_EQ(tmpl->eos_token(), "<|eot_id|>");
  auto out = tmpl->render({{"user", "Hi"}}, true);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out,
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateTest, ModelsWithoutATemplateGetThePlainOne) {
  // A GGUF without tokenizer.chat_template: SentencePiece default ids 1 and 2 name BOS and EOS.
  GgufWriter w = test::tiny_llama_writer();
  w.add_string("tokenizer.ggml.model", "llama");
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.has_value());
  auto gguf = parse_bytes(*bytes);
  ASSERT_TRUE(gguf.has_value());
  auto tmpl = chat_template_for_model(*gguf);
  ASSERT_TRUE(tmpl.has_value()) << tmpl.error().message;
  EXPECT_EQ(tmpl->family(), "plain");
  EXPECT_EQ(tmpl->bos_token(), "<s>");
  EXPECT_EQ(tmpl->eos_token(), "</s>");
  // A llama2.c checkpoint has no metadata at all.
  const auto bin = test::llama2c_bytes(0, 8, 16, 1, 2, 1, 4, 32, true);
  auto llama2c = parse_model_file("tiny.bin", bin.data(), bin.size());
  ASSERT_TRUE(llama2c.has_value()) << llama2c.error().message;
  tmpl = chat_template_for_model(*llama2c);
  ASSERT_TRUE(tmpl.has_value());
  EXPECT_EQ(tmpl->family(), "plain");
  EXPECT_EQ(tmpl->render({{"user", "Hi"}}, true).value(), "user: Hi\nassistant:");
}

TEST(ChatTemplateTest, BrokenTemplateInAModelFileIsAnErrorNamingIt) {
  GgufWriter w = test::tiny_llama_writer();
  w.add_string("tokenizer.chat_template", "{% if %}");
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.has_value());
  auto file = parse_bytes(*bytes);
  ASSERT_TRUE(file.has_value());
  auto tmpl = chat_template_for_model(*file);
  ASSERT_FALSE(tmpl.has_value());
  EXPECT_EQ(tmpl.error().message,
            "tiny.gguf: tokenizer.chat_template: chat template: line 1, column 7: "
            "expected an expression, got end of statement block ('%}')");
}

// Llama templates write "<s>" themselves: tokenizing the prompt must parse it as the BOS id and not add
// another one. Zephyr's template has no BOS text, so the tokenizer's own BOS is added once.
TEST(ChatTemplateTest, EncodingARenderedPromptAddsNoSecondBos) {
  auto tok = load_tokenizer_file(test::shared_path("models/tokenizers/llama-spm-gguf/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(tok.has_value()) << tok.error().message;
  ASSERT_TRUE(tok->add_bos_default());
  const int32_t bos = tok->bos_id();
  const int32_t eos = tok->eos_id();
  const std::vector<ChatMessage> conversation = {
      {"system", "You are a helpful assistant."}, {"user", "Hello!"}, {"assistant", "Hi."}, {"user", "Thanks."}};
  auto count = [](const std::vector<int32_t>& ids, int32_t id) { return std::count(ids.begin(), ids.end(), id); };

  auto llama2 = chat_template_by_name("llama2");
  ASSERT_TRUE(llama2.has_value());
  const std::string prompt = llama2->render(conversation, true).value();
  ASSERT_TRUE(prompt.starts_with("<s>[INST]"));
  const auto ids = encode_chat_prompt(*tok, *llama2, prompt);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], bos);
  EXPECT_NE(ids[1], bos);
  EXPECT_EQ(count(ids, bos), 2);  // one per user turn, as the template writes them
  EXPECT_EQ(count(ids, eos), 1);  // after the assistant turn
  // What the API avoids: the tokenizer's default BOS on top of the template's.
  const auto doubled = tok->encode(prompt, true, true);
  EXPECT_EQ(doubled[0], bos);
  EXPECT_EQ(doubled[1], bos);

  auto zephyr = chat_template_by_name("zephyr");
  ASSERT_TRUE(zephyr.has_value());
  const auto zephyr_ids = encode_chat_prompt(*tok, *zephyr, zephyr->render(conversation, true).value());
  ASSERT_GE(zephyr_ids.size(), 2u);
  EXPECT_EQ(zephyr_ids[0], bos);
  EXPECT_NE(zephyr_ids[1], bos);
  EXPECT_EQ(count(zephyr_ids, bos), 1);
  EXPECT_EQ(count(zephyr_ids, eos), 4);  // "</s>" closes each of the four turns
}

}  // namespace
}  // namespace helix
