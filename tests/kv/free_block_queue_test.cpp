#include "kv/free_block_queue.h"

#include <vector>

#include <gtest/gtest.h>

namespace helix {
namespace {

std::vector<int32_t> ids(const std::vector<BlockId>& blocks) {
  std::vector<int32_t> out;
  for (BlockId b : blocks) out.push_back(b.value);
  return out;
}

std::vector<KvBlock> make_blocks(int32_t n) {
  std::vector<KvBlock> blocks(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) blocks[static_cast<size_t>(i)].id = BlockId{i};
  return blocks;
}

TEST(FreeBlockQueue, StartsWithEveryBlockInIdOrder) {
  auto blocks = make_blocks(5);
  FreeBlockQueue q(blocks);
  EXPECT_EQ(q.size(), 5);
  EXPECT_EQ(ids(q.to_vector()), (std::vector<int32_t>{0, 1, 2, 3, 4}));
}

TEST(FreeBlockQueue, PopFrontAppendRemoveFromMiddle) {
  auto blocks = make_blocks(5);
  FreeBlockQueue q(blocks);
  EXPECT_EQ(q.pop_front().value, 0);
  EXPECT_EQ(q.pop_front().value, 1);
  q.remove(BlockId{3});  // middle
  EXPECT_EQ(ids(q.to_vector()), (std::vector<int32_t>{2, 4}));
  q.push_back(BlockId{1});
  q.push_back(BlockId{3});
  q.push_back(BlockId{0});
  EXPECT_EQ(ids(q.to_vector()), (std::vector<int32_t>{2, 4, 1, 3, 0}));
  q.remove(BlockId{2});  // head
  q.remove(BlockId{0});  // tail
  EXPECT_EQ(ids(q.to_vector()), (std::vector<int32_t>{4, 1, 3}));
  EXPECT_EQ(q.size(), 3);
  EXPECT_FALSE(blocks[2].in_free_queue);
  EXPECT_TRUE(blocks[3].in_free_queue);
  q.remove(BlockId{4});
  q.remove(BlockId{1});
  EXPECT_EQ(q.pop_front().value, 3);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.to_vector().empty());
  q.push_back(BlockId{2});  // a queue emptied to nothing links up again
  EXPECT_EQ(ids(q.to_vector()), (std::vector<int32_t>{2}));
}

TEST(FreeBlockQueueDeathTest, DoubleAppendAborts) {
  auto blocks = make_blocks(2);
  FreeBlockQueue q(blocks);
  EXPECT_DEATH(q.push_back(BlockId{1}), "appended to the free queue twice");
}

}  // namespace
}  // namespace helix
