// Runs the real `helix quantize` and `helix bench-spec` binaries on stories260K.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace helix {
namespace {

using test::CommandRun;
using test::run_helix;

std::string model(const char* name) { return test::shared_path(std::string("models/stories260K/") + name); }

TEST(BenchSpecCommand, QuantizedDraftGivesTheSameGreedyOutput) {
  test::TempDir dir;
  const std::string draft = dir.file("q8.gguf");
  const CommandRun q = run_helix("quantize -m " + model("stories260K.bin") + " --type q8_0 -o " + draft, true);
  ASSERT_EQ(q.exit_code, 0) << q.out;
  const CommandRun r =
      run_helix("bench-spec -m " + model("stories260K.gguf") + " --draft-model " + draft + " -n 40 -t 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["greedy_identical"], true);
  EXPECT_EQ(j["proposer"], "draft-model");
  EXPECT_EQ(j["plain"]["target_forwards"], 40);  // one per generated token
  EXPECT_LT(j["speculative"]["target_forwards"].get<int>(), 40);
  EXPECT_EQ(j["timeline"].get<std::string>().size(), 40u);
  EXPECT_EQ(j["target_forwards_saved"].get<int>(), 40 - j["speculative"]["target_forwards"].get<int>());
}

TEST(BenchSpecCommand, NgramTextOutput) {
  const CommandRun r =
      run_helix("bench-spec -m " + model("stories260K.bin") + " --spec ngram --prompt 'Once upon a time' -n 30 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("proposer: prompt lookup"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("greedy outputs identical: yes (1 x 30 tokens)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("speedup:"), std::string::npos) << r.out;
}

TEST(BenchSpecCommand, RefusesADraftWithAnotherVocabulary) {
  test::TempDir dir;
  const std::string other = dir.file("random.gguf");
  ASSERT_EQ(run_helix("gen-model --preset stories260k --type f32 -o " + other).exit_code, 0);
  const CommandRun r = run_helix("bench-spec -m " + model("stories260K.gguf") + " --draft-model " + other + " -n 4", true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("helix: error: --draft-model: vocabulary mismatch between the target ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(other), std::string::npos) << r.out;
}

TEST(BenchSpecCommand, NeedsAProposer) {
  const CommandRun r = run_helix("bench-spec -m " + model("stories260K.gguf") + " -n 4", true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--spec: pass --draft-model FILE or --spec ngram"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace helix
