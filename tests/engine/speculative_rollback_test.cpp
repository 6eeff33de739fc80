// Rollback: after each verification the target keeps exactly the blocks covering the context plus the
// accepted drafts; the blocks that held only rejected drafts are freed (and nothing else), the draft model's
// cache is cut back the same way, and the accounting ends where a plain run ends.
#include "speculative_test_util.h"

namespace helix {
namespace {

using namespace spectest;

int64_t blocks_for(int64_t tokens, int64_t bs) { return (tokens + bs - 1) / bs; }

class SpecRollback : public ::testing::TestWithParam<int32_t> {};

TEST_P(SpecRollback, FreesExactlyTheBlocksOfRejectedTokens) {
  const int32_t bs = GetParam();
  test::TempDir dir;
  auto draft = std::make_unique<DraftModelProposer>(load(write_weak_draft(dir)));
  DraftModelProposer* draft_view = draft.get();
  auto g = make_spec(stories("stories260K.bin"), std::move(draft), 6, engine_options(bs, 256 / bs));
  int64_t rollbacks_that_freed = 0, verifications = 0, rejections = 0;
  g->set_verify_observer([&](std::span<const VerifyRecord> records, const KvCacheManager& kv) {
    ASSERT_TRUE(kv.check_invariants()) << kv.check_invariants().error().message;
    int64_t live_blocks = 0;
    for (const VerifyRecord& r : records) {
      ++verifications;
      // The step wrote 1 + proposed tokens after start_pos; the table covered them.
      const int64_t written = r.start_pos + 1 + r.proposed;
      ASSERT_EQ(static_cast<int64_t>(r.blocks_before.size()), blocks_for(written, bs));
      if (r.finished) {
        for (int32_t b : r.blocks_before) EXPECT_EQ(kv.ref_count(BlockId{b}), 0);
        continue;
      }
      if (r.accepted < r.proposed) ++rejections;
      EXPECT_EQ(r.kept_tokens, r.start_pos + 1 + r.accepted);
      const int64_t keep_blocks = blocks_for(r.kept_tokens, bs);
      // Kept: the table's first blocks, unchanged. Freed: every later block, now unreferenced.
      ASSERT_EQ(static_cast<int64_t>(r.blocks_after.size()), keep_blocks);
      EXPECT_TRUE(std::equal(r.blocks_after.begin(), r.blocks_after.end(), r.blocks_before.begin()));
      for (size_t i = keep_blocks; i < r.blocks_before.size(); ++i) EXPECT_EQ(kv.ref_count(BlockId{r.blocks_before[i]}), 0);
      for (int32_t b : r.blocks_after) EXPECT_EQ(kv.ref_count(BlockId{b}), 1);
      if (static_cast<int64_t>(r.blocks_before.size()) > keep_blocks) ++rollbacks_that_freed;
      live_blocks += keep_blocks;
      // The draft cache holds a prefix of what the target kept: the context and the accepted drafts, or less
      // (when all K were kept the K-th draft was never fed to the draft).
      const int64_t draft_tokens = draft_view->cached_tokens(r.seq);
      EXPECT_LE(draft_tokens, r.kept_tokens);
      EXPECT_GE(draft_tokens, r.kept_tokens - 1);
    }
    // One sequence: the pool holds exactly its kept blocks, what a plain run holds at the same length.
    EXPECT_EQ(kv.num_used_blocks(), live_blocks);
    const KvCacheManager& dkv = *draft_view->kv();
    ASSERT_TRUE(dkv.check_invariants()) << dkv.check_invariants().error().message;
    if (!records.empty() && !records[0].finished) {
      EXPECT_EQ(dkv.num_used_blocks(), blocks_for(draft_view->cached_tokens(records[0].seq), bs));
    }
  });
  GenerationRequest r = request({1, 403, 407}, 150);
  auto out = g->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_GT(verifications, 10);
  EXPECT_GT(rejections, 0);
  if (bs <= 4) {
    EXPECT_GT(rollbacks_that_freed, 0);  // with small blocks, rejected drafts often fill blocks of their own
  }

  // Afterwards both pools are back to empty, as after the plain run of the same request.
  auto plain = make_plain(stories("stories260K.bin"), engine_options(bs, 256 / bs));
  auto plain_out = plain->generate(std::span<const GenerationRequest>(&r, 1));
  ASSERT_TRUE(plain_out);
  EXPECT_EQ((*out)[0].tokens, (*plain_out)[0].tokens);
  EXPECT_EQ(g->kv().num_used_blocks(), plain->kv().num_used_blocks());
  EXPECT_EQ(g->kv().num_free_blocks(), plain->kv().num_free_blocks());
  EXPECT_EQ(g->kv().num_free_blocks(), 256 / bs);
  EXPECT_EQ(draft_view->kv()->num_free_blocks(), 256 / bs);
  EXPECT_TRUE(g->kv().check_invariants());
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, SpecRollback, ::testing::Values(1, 4, 16, 64));

// Drafts never take a sequence past the slots reserved for it up front (prompt + max_new_tokens - 1).
TEST(SpecRollbackPeak, PeakWithinTheReservation) {
  const int32_t bs = 4, k = 6;
  test::TempDir dir;
  auto g = make_draft_spec(stories("stories260K.bin"), write_weak_draft(dir), k, engine_options(bs, 128));
  std::vector<GenerationRequest> reqs = {request({1}, 100), request({1, 403}, 80)};
  ASSERT_TRUE(g->generate(reqs));
  // Slots: 1 + 100 - 1 = 100 and 2 + 80 - 1 = 81 -> ceil(100 / 4) + ceil(81 / 4) = 25 + 21 = 46 blocks.
  EXPECT_LE(g->last_stats().peak_target_blocks, 46);
  EXPECT_GT(g->last_stats().peak_target_blocks, 25);
  EXPECT_GT(g->last_stats().peak_draft_blocks, 0);
  EXPECT_LE(g->last_stats().peak_draft_blocks, g->last_stats().peak_target_blocks);
}

}  // namespace
}  // namespace helix
