// A draft is accepted only with the target's vocabulary: same size, same token texts.
#include "engine/speculative/vocab_check.h"

#include "model/model_generator.h"
#include "speculative_test_util.h"

namespace helix {
namespace {

using namespace spectest;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(SpecVocab, SameVocabularyAcrossFormatsIsAccepted) {
  auto gguf = open_model_file(stories("stories260K.gguf"));
  auto bin = open_model_file(stories("stories260K.bin"));
  ASSERT_TRUE(gguf && bin);
  EXPECT_TRUE(check_draft_vocabulary(*gguf, *bin));
  EXPECT_TRUE(check_draft_vocabulary(*bin, *gguf));
  test::TempDir dir;
  auto weak = open_model_file(write_weak_draft(dir));  // the tokenizer was carried into the copy
  ASSERT_TRUE(weak);
  EXPECT_TRUE(check_draft_vocabulary(*bin, *weak));
}

TEST(SpecVocab, DifferentTextsAreRefusedNamingTheFirstDifferingId) {
  // A random model of stories260K's shape (512 tokens) with a synthetic vocabulary.
  test::TempDir dir;
  auto shape = find_preset("stories260k");
  ASSERT_TRUE(shape);
  GeneratedModelOptions go;
  go.weight_type = DType::F32;
  const std::string other = dir.file("synthetic.gguf");
  ASSERT_TRUE(write_random_model(*shape, go, other));
  auto target = open_model_file(stories("stories260K.gguf"));
  auto draft = open_model_file(other);
  ASSERT_TRUE(target && draft);
  ASSERT_EQ(draft->shape.vocab_size, 512);
  // Where the texts first differ, found independently of the check.
  auto ta = tokenizer_for_model(*target);
  auto tb = tokenizer_for_model(*draft);
  ASSERT_TRUE(ta && tb);
  int32_t first = -1;
  for (int32_t id = 0; id < 512 && first < 0; ++id)
    if (ta->token_text(id) != tb->token_text(id)) first = id;
  ASSERT_GE(first, 0);
  auto st = check_draft_vocabulary(*target, *draft);
  ASSERT_FALSE(st);
  const std::string& m = st.error().message;
  EXPECT_EQ(st.error().param, "draft_model");
  EXPECT_TRUE(contains(m, target->path)) << m;
  EXPECT_TRUE(contains(m, other)) << m;
  EXPECT_TRUE(contains(m, "token " + std::to_string(first) + " is ")) << m;
}

TEST(SpecVocab, DifferentSizesAreRefused) {
  test::TempDir dir;
  auto shape = find_preset("stories260k");
  ASSERT_TRUE(shape);
  shape->vocab_size = 600;
  const std::string other = dir.file("vocab600.gguf");
  GeneratedModelOptions go;
  go.weight_type = DType::F32;
  const auto written = write_random_model(*shape, go, other);
  ASSERT_TRUE(written) << written.error().message;
  auto target = open_model_file(stories("stories260K.bin"));
  auto draft = open_model_file(other);
  ASSERT_TRUE(target && draft);
  auto st = check_draft_vocabulary(*target, *draft);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "draft_model: vocabulary mismatch: the target " + target->path + " has 512 tokens, the draft " + other +
                " has 600");
  // The generator refuses such a draft too, even without the file check.
  SpeculativeOptions so;
  auto g = SpeculativeGenerator::create(load(stories("stories260K.bin")), std::make_unique<DraftModelProposer>(load(other)),
                                        engine_options(16), so);
  ASSERT_FALSE(g);
  EXPECT_TRUE(contains(g.error().message, "vocabulary of 600 tokens, the target has 512")) << g.error().message;
}

TEST(SpecVocab, CompareWithoutTokenizersChecksSizesOnly) {
  EXPECT_TRUE(compare_vocabularies("a.bin", 512, nullptr, "b.bin", 512, nullptr));
  EXPECT_FALSE(compare_vocabularies("a.bin", 512, nullptr, "b.bin", 513, nullptr));
}

TEST(SpecOptions, SpecTokensRange) {
  SpeculativeOptions o;
  o.num_spec_tokens = 0;
  EXPECT_EQ(o.validate().error().message.rfind("--spec-tokens:", 0), 0u);
  o.num_spec_tokens = 33;
  EXPECT_FALSE(o.validate());
  o.num_spec_tokens = 8;
  EXPECT_TRUE(o.validate());
}

}  // namespace
}  // namespace helix
