// Runs the real `helix bench` binary on stories260K.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace helix {
namespace {

using test::CommandRun;
using test::run_helix;

std::string stories() { return test::shared_path("models/stories260K/stories260K.gguf"); }

TEST(BenchCommand, JsonReportJudgesEachRunAgainstTheBandwidthAroundIt) {
  const CommandRun r = run_helix("bench -m " + stories() + " -p 16 -n 8 -r 1 --batch 3 -t 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["repetitions"], 1);
  EXPECT_EQ(j["pp"]["tokens"], 16);
  EXPECT_EQ(j["tg"]["tokens"], 8);
  EXPECT_EQ(j["batch"]["sequences"], 3);
  // One generation run: the bandwidth is measured before and after it, and the run is judged against their mean.
  EXPECT_EQ(j["bandwidth_measurements"], 2);
  const double bandwidth = j["measured_bandwidth_gbps"];
  const double tg = j["tg"]["tokens_per_second"]["mean"];
  const double bytes = j["bytes_read_per_token"];
  EXPECT_GT(bandwidth, 0.0);
  EXPECT_GT(tg, 0.0);
  EXPECT_NEAR(j["tg"]["fraction_of_bandwidth"]["mean"].get<double>(), tg * bytes / 1e9 / bandwidth, 1e-9);
  EXPECT_NEAR(j["tg"]["implied_bandwidth_gbps"].get<double>(), tg * bytes / 1e9, 1e-9);
  EXPECT_NEAR(j["bandwidth_bound_tokens_per_second"].get<double>(), bandwidth * 1e9 / bytes, 1e-6);
  // After each decode step the same weights are read by a plain loop; the run is also judged against that rate.
  const double paired = j["tg"]["paired_read_gbps"]["mean"];
  EXPECT_GT(paired, 0.0);
  EXPECT_NEAR(j["tg"]["fraction_of_paired_read"]["mean"].get<double>(), tg * bytes / 1e9 / paired, 1e-9);
  if (j["tg"].contains("cpu_steal_fraction")) {  // where /proc/stat exists
    EXPECT_GE(j["tg"]["cpu_steal_fraction"]["mean"].get<double>(), 0.0);
    EXPECT_LE(j["tg"]["cpu_steal_fraction"]["mean"].get<double>(), 1.0);
  }
  EXPECT_NEAR(j["batch"]["speedup_over_single"].get<double>(),
              j["batch"]["tokens_per_second"]["mean"].get<double>() / tg, 1e-9);
}

TEST(BenchCommand, TextReport) {
  const CommandRun r = run_helix("bench -m " + stories() + " -p 8 -n 4 -r 2 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("over 4 measurements) -> bandwidth bound"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokens/s over 2 runs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pp8 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tg4 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of the bandwidth measured around it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("a plain read of the same weights after each token: "), std::string::npos) << r.out;
}

TEST(BenchCommand, BadFlagsNameTheField) {
  for (const auto& [flags, message] : std::initializer_list<std::pair<const char*, const char*>>{
           {"-r 0", "helix: error: --repetitions: must be >= 1"},
           {"-n -1", "helix: error: --gen-tokens: must be >= 0"},
           {"-p -3", "helix: error: --prompt-tokens: must be >= 0"},
           {"--batch 0", "helix: error: --batch: must be between 1 and 1024"}}) {
    const CommandRun r = run_helix("bench -m " + stories() + " " + flags, true);
    EXPECT_EQ(r.exit_code, 1) << flags;
    EXPECT_EQ(r.out.rfind(message, 0), 0u) << flags << ": " << r.out;
  }
}

}  // namespace
}  // namespace helix
