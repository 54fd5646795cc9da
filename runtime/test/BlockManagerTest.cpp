//===- BlockManagerTest.cpp - paged KV block bookkeeping ------------------===//
#include "runtime/kv/BlockManager.h"

#include <gtest/gtest.h>

using llmc::kv::BlockCopy;
using llmc::kv::BlockManager;

TEST(BlockManager, SlotsFollowTheBlockTable) {
  BlockManager bm(8, 4);
  auto r = bm.append(1, 6);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->copies.empty());
  const auto &table = bm.blockTable(1);
  ASSERT_EQ(table.size(), 2u);
  ASSERT_EQ(r->slots.size(), 6u);
  for (int64_t p = 0; p < 6; ++p) {
    EXPECT_EQ(r->slots[p], table[p / 4] * 4 + p % 4);
    EXPECT_EQ(bm.slotOf(1, p), r->slots[p]);
  }
  EXPECT_EQ(bm.numFreeBlocks(), 6);
  EXPECT_EQ(bm.numTokens(1), 6);
}

TEST(BlockManager, DecodeAppendsFillTheLastBlockFirst) {
  BlockManager bm(8, 4);
  ASSERT_TRUE(bm.append(1, 3));
  auto r = bm.append(1, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(bm.blockTable(1).size(), 1u);
  EXPECT_EQ(r->slots[0], bm.blockTable(1)[0] * 4 + 3);
  ASSERT_TRUE(bm.append(1, 1));
  EXPECT_EQ(bm.blockTable(1).size(), 2u);
}

TEST(BlockManager, AllOrNothingWhenThePoolIsShort) {
  BlockManager bm(2, 4);
  ASSERT_TRUE(bm.append(1, 5));
  EXPECT_EQ(bm.blocksNeeded(2, 4), 1);
  EXPECT_EQ(bm.blocksNeeded(1, 4), 1);
  EXPECT_FALSE(bm.append(2, 1));
  EXPECT_FALSE(bm.contains(2));
  EXPECT_FALSE(bm.append(1, 4));
  EXPECT_EQ(bm.numTokens(1), 5);
  EXPECT_TRUE(bm.append(1, 3));
}

TEST(BlockManager, ReleaseReturnsBlocks) {
  BlockManager bm(4, 2);
  ASSERT_TRUE(bm.append(7, 8));
  EXPECT_EQ(bm.numFreeBlocks(), 0);
  bm.release(7);
  EXPECT_EQ(bm.numFreeBlocks(), 4);
  EXPECT_FALSE(bm.contains(7));
  bm.release(7); // releasing twice is harmless
  EXPECT_EQ(bm.numFreeBlocks(), 4);
}

TEST(BlockManager, ForkSharesBlocksAndCopiesOnWrite) {
  BlockManager bm(8, 4);
  ASSERT_TRUE(bm.append(1, 6)); // blocks A (full) and B (half)
  bm.fork(1, 2);
  int32_t a = bm.blockTable(1)[0], b = bm.blockTable(1)[1];
  EXPECT_EQ(bm.refCount(a), 2);
  EXPECT_EQ(bm.refCount(b), 2);
  EXPECT_EQ(bm.numFreeBlocks(), 6);

  EXPECT_EQ(bm.blocksNeeded(2, 1), 1); // the copy of B
  auto r = bm.append(2, 1);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->copies.size(), 1u);
  int32_t copy = bm.blockTable(2)[1];
  EXPECT_EQ(r->copies[0], (BlockCopy{b, copy}));
  EXPECT_NE(copy, b);
  EXPECT_EQ(bm.blockTable(2)[0], a); // the full block stays shared
  EXPECT_EQ(bm.refCount(a), 2);
  EXPECT_EQ(bm.refCount(b), 1);
  EXPECT_EQ(r->slots[0], int64_t(copy) * 4 + 2);

  // The parent now owns B alone and appends in place.
  auto p = bm.append(1, 1);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->copies.empty());
  EXPECT_EQ(p->slots[0], int64_t(b) * 4 + 2);

  bm.release(1);
  EXPECT_EQ(bm.refCount(a), 1);
  bm.release(2);
  EXPECT_EQ(bm.numFreeBlocks(), 8);
}

TEST(BlockManager, ForkAtABlockBoundaryNeedsNoCopy) {
  BlockManager bm(8, 4);
  ASSERT_TRUE(bm.append(1, 4));
  bm.fork(1, 2);
  auto r = bm.append(2, 1);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->copies.empty());
  EXPECT_EQ(bm.blockTable(2).size(), 2u);
}

TEST(BlockManager, BadArgumentsThrow) {
  EXPECT_THROW(BlockManager(0, 4), std::invalid_argument);
  BlockManager bm(2, 4);
  EXPECT_THROW(bm.blockTable(3), std::out_of_range);
  EXPECT_THROW(bm.fork(3, 4), std::out_of_range);
  ASSERT_TRUE(bm.append(1, 1));
  EXPECT_THROW(bm.slotOf(1, 1), std::out_of_range);
  EXPECT_THROW(bm.fork(1, 1), std::invalid_argument);
}
