//===- KvCacheManagerTest.cpp - block tables, prefix cache, copy-on-write -===//
#include "runtime/kv/KvCacheManager.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

using namespace llmc::kv;

namespace {

std::vector<int32_t> range(int32_t from, int32_t n) {
  std::vector<int32_t> v(n);
  for (int32_t i = 0; i < n; ++i)
    v[i] = from + i;
  return v;
}

TEST(KvCacheManager, SlotsFollowTheBlockTable) {
  KvCacheManager kv(8, 4, false);
  auto copies = kv.allocate(1, 6);
  ASSERT_TRUE(copies);
  EXPECT_TRUE(copies->empty());
  const auto &table = kv.blockTable(1);
  ASSERT_EQ(table.size(), 2u);
  for (int64_t p = 0; p < 6; ++p)
    EXPECT_EQ(kv.slotOf(1, p), table[p / 4] * 4 + p % 4);
  EXPECT_EQ(kv.numFreeBlocks(), 6);
  EXPECT_EQ(kv.numTokens(1), 6);
  EXPECT_THROW(kv.slotOf(1, 6), std::out_of_range);
}

TEST(KvCacheManager, AllOrNothingAndTheWatermark) {
  KvCacheManager kv(4, 4, false);
  ASSERT_TRUE(kv.allocate(1, 5)); // 2 blocks
  EXPECT_EQ(kv.blocksNeeded(2, 8), 2);
  EXPECT_FALSE(kv.allocate(2, 8, nullptr, 1)); // would leave 0 < 1 free
  EXPECT_FALSE(kv.contains(2));
  EXPECT_EQ(kv.numFreeBlocks(), 2);
  EXPECT_FALSE(kv.allocate(1, 12)); // needs 3 more
  EXPECT_EQ(kv.numTokens(1), 5);
  EXPECT_TRUE(kv.allocate(2, 8));
  EXPECT_EQ(kv.numFreeBlocks(), 0);
  kv.free(2);
  kv.free(2); // harmless
  EXPECT_EQ(kv.numFreeBlocks(), 2);
}

TEST(KvCacheManager, ForkSharesBlocksAndCopiesThePartialTailOnWrite) {
  KvCacheManager kv(8, 4, false);
  ASSERT_TRUE(kv.allocate(1, 6));
  kv.fork(1, 2);
  EXPECT_EQ(kv.blockTable(1), kv.blockTable(2));
  EXPECT_EQ(kv.refCount(kv.blockTable(1)[0]), 2);
  int32_t tail = kv.blockTable(1)[1];
  auto copies = kv.allocate(2, 1);
  ASSERT_TRUE(copies);
  ASSERT_EQ(copies->size(), 1u);
  EXPECT_EQ((*copies)[0].src, tail);
  EXPECT_EQ((*copies)[0].dst, kv.blockTable(2)[1]);
  EXPECT_NE(kv.blockTable(2)[1], tail);
  EXPECT_EQ(kv.blockTable(2)[0], kv.blockTable(1)[0]); // full block shared
  EXPECT_EQ(kv.refCount(tail), 1);
  // The parent now owns its tail alone: no copy.
  copies = kv.allocate(1, 1);
  ASSERT_TRUE(copies);
  EXPECT_TRUE(copies->empty());
  EXPECT_THROW(kv.fork(9, 10), std::out_of_range);
  EXPECT_THROW(kv.fork(1, 2), std::invalid_argument);
}

TEST(KvCacheManager, APrefixIsFoundOnlyAfterItIsComputed) {
  KvCacheManager kv(16, 4, true);
  std::vector<int32_t> prompt = range(100, 10);
  EXPECT_EQ(kv.findCachedPrefix(prompt).tokens, 0);
  ASSERT_TRUE(kv.allocate(1, 10));
  EXPECT_EQ(kv.findCachedPrefix(prompt).tokens, 0); // not computed yet
  kv.cacheComputed(1, prompt, 10);
  PrefixHit hit = kv.findCachedPrefix(prompt);
  EXPECT_EQ(hit.tokens, 8);
  EXPECT_EQ(hit.blocks, std::vector<int32_t>(kv.blockTable(1).begin(),
                                             kv.blockTable(1).begin() + 2));
  // A prompt that diverges in the second block shares the first only.
  std::vector<int32_t> other = prompt;
  other[5] = 7;
  EXPECT_EQ(kv.findCachedPrefix(other).tokens, 4);
  // The same first block after a different one is not a hit.
  std::vector<int32_t> shifted = range(0, 4);
  shifted.insert(shifted.end(), prompt.begin(), prompt.end());
  EXPECT_EQ(kv.findCachedPrefix(shifted).tokens, 0);
}

TEST(KvCacheManager, TheLastTokenIsAlwaysLeftToCompute) {
  KvCacheManager kv(16, 4, true);
  std::vector<int32_t> prompt = range(1, 8);
  ASSERT_TRUE(kv.allocate(1, 8));
  kv.cacheComputed(1, prompt, 8);
  // All 8 tokens are cached, but a step must compute the 8th for its
  // logits: only the first block is a hit.
  EXPECT_EQ(kv.findCachedPrefix(prompt).tokens, 4);
  std::vector<int32_t> longer = range(1, 9);
  EXPECT_EQ(kv.findCachedPrefix(longer).tokens, 8);
}

TEST(KvCacheManager, FreedBlocksStayCachedUntilReused) {
  KvCacheManager kv(4, 2, true);
  std::vector<int32_t> a = range(10, 5), b = range(50, 5);
  ASSERT_TRUE(kv.allocate(1, 5));
  kv.cacheComputed(1, a, 5);
  kv.free(1);
  EXPECT_EQ(kv.numFreeBlocks(), 4);
  PrefixHit hit = kv.findCachedPrefix(a);
  EXPECT_EQ(hit.tokens, 4);
  // Taking a hit revives free blocks: they count against the pool.
  EXPECT_EQ(kv.blocksNeeded(2, 1, &hit), 3);
  ASSERT_TRUE(kv.allocate(2, 1, &hit));
  EXPECT_EQ(kv.numTokens(2), 5);
  EXPECT_EQ(kv.numFreeBlocks(), 1);
  EXPECT_EQ(kv.refCount(hit.blocks[0]), 1);
  kv.free(2);
  // A different sequence needing every block evicts the cached ones.
  ASSERT_TRUE(kv.allocate(3, 8));
  kv.cacheComputed(3, {50, 51, 52, 53, 54, 55, 56, 57}, 8);
  kv.free(3);
  EXPECT_EQ(kv.findCachedPrefix(a).tokens, 0);
  EXPECT_EQ(kv.findCachedPrefix(b).tokens, 4);
}

TEST(KvCacheManager, EvictsTheLeastRecentlyFreedFirst) {
  KvCacheManager kv(4, 2, true);
  std::vector<int32_t> a = {1, 2, 9}, b = {3, 4, 9};
  ASSERT_TRUE(kv.allocate(1, 2));
  kv.cacheComputed(1, a, 2);
  ASSERT_TRUE(kv.allocate(2, 2));
  kv.cacheComputed(2, b, 2);
  kv.free(1); // a's block freed first
  kv.free(2);
  // Two never-used blocks go first, then a's, then b's.
  ASSERT_TRUE(kv.allocate(3, 6));
  EXPECT_EQ(kv.findCachedPrefix(a).tokens, 0);
  EXPECT_EQ(kv.findCachedPrefix(b).tokens, 2);
}

TEST(KvCacheManager, NothingIsCachedWithPrefixCachingOff) {
  KvCacheManager off(8, 2, false);
  std::vector<int32_t> p = range(0, 5);
  ASSERT_TRUE(off.allocate(1, 5));
  off.cacheComputed(1, p, 5);
  EXPECT_EQ(off.findCachedPrefix(p).tokens, 0);
}

/// A random workload against a shadow of the KV memory: every slot records
/// the prefix whose KV it holds (as the token ids up to and including its
/// position). Checks after every operation that no block is leaked or freed
/// twice, that reference counts are exact, that a sequence's block table
/// covers its tokens, that every computed position of every sequence reads
/// the KV of its own prefix (so cached blocks were reused only for equal
/// prefixes and copy-on-write happened before every shared write), and
/// that no step writes into a block another sequence holds.
class Workload {
public:
  Workload(uint32_t seed, int32_t blocks, int32_t bs)
      : rng_(seed), kv_(blocks, bs, true), bs_(bs),
        shadow_(static_cast<size_t>(blocks) * bs) {}

  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      int op = pick(0, 9);
      if (op <= 2 || seqs_.empty())
        admit();
      else if (op <= 6)
        advance();
      else if (op == 7)
        fork();
      else
        finish();
      check();
      if (::testing::Test::HasFatalFailure())
        return;
    }
    while (!seqs_.empty())
      finish();
    check();
    EXPECT_EQ(kv_.numFreeBlocks(), kv_.numBlocks());
  }

  int64_t hits = 0, forks = 0, copies = 0, rejected = 0;

private:
  struct Seq {
    std::vector<int32_t> tokens;
    int64_t computed = 0;
  };

  int pick(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }

  std::vector<int32_t> prompt() {
    // A few shared system prompts, then a short random tail over a small
    // alphabet, so equal and nearly equal prefixes are common.
    static const std::vector<std::vector<int32_t>> heads = {
        {1, 2, 3, 4, 5, 6, 7}, {1, 2, 3, 4, 9, 9}, {5, 5, 5, 5, 5}, {}};
    std::vector<int32_t> p = heads[pick(0, 3)];
    int tail = pick(1, 9);
    for (int i = 0; i < tail; ++i)
      p.push_back(pick(0, 3));
    return p;
  }

  void compute(SeqId id, Seq &s, int64_t n, const std::vector<BlockCopy> &cps) {
    copies += static_cast<int64_t>(cps.size());
    for (const BlockCopy &c : cps)
      for (int32_t j = 0; j < bs_; ++j)
        shadow_[c.dst * bs_ + j] = shadow_[c.src * bs_ + j];
    for (int64_t p = s.computed; p < s.computed + n; ++p) {
      int64_t slot = kv_.slotOf(id, p);
      int32_t block = static_cast<int32_t>(slot / bs_);
      ASSERT_EQ(kv_.refCount(block), 1)
          << "sequence " << id << " writes position " << p << " into block "
          << block << " that others hold";
      shadow_[slot].assign(s.tokens.begin(), s.tokens.begin() + p + 1);
    }
    s.computed += n;
    kv_.cacheComputed(id, s.tokens, s.computed);
  }

  void admit() {
    Seq s;
    s.tokens = prompt();
    SeqId id = next_++;
    PrefixHit hit = kv_.findCachedPrefix(s.tokens);
    ASSERT_LT(hit.tokens, static_cast<int64_t>(s.tokens.size()));
    // A hit is only ever the KV of this prompt's own prefix.
    for (int64_t p = 0; p < hit.tokens; ++p)
      ASSERT_EQ(
          shadow_[hit.blocks[p / bs_] * bs_ + p % bs_],
          std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + p + 1));
    int64_t left = static_cast<int64_t>(s.tokens.size()) - hit.tokens;
    int64_t n = pick(1, static_cast<int>(left));
    auto cps = kv_.allocate(id, n, &hit, pick(0, 2));
    if (!cps) {
      ++rejected;
      EXPECT_FALSE(kv_.contains(id));
      return;
    }
    hits += hit.tokens > 0;
    s.computed = hit.tokens;
    Seq &live = seqs_[id] = s;
    compute(id, live, n, *cps);
  }

  std::map<SeqId, Seq>::iterator any() {
    auto it = seqs_.begin();
    std::advance(it, pick(0, static_cast<int>(seqs_.size()) - 1));
    return it;
  }

  void advance() {
    auto it = any();
    Seq &s = it->second;
    int64_t left = static_cast<int64_t>(s.tokens.size()) - s.computed;
    if (left == 0) { // decode: a new token
      s.tokens.push_back(pick(0, 3));
      left = 1;
    }
    int64_t n = pick(1, static_cast<int>(left));
    auto cps = kv_.allocate(it->first, n);
    if (!cps) {
      ++rejected;
      return;
    }
    compute(it->first, s, n, *cps);
  }

  void fork() {
    auto it = any();
    if (it->second.computed != static_cast<int64_t>(it->second.tokens.size()))
      return;
    SeqId id = next_++;
    kv_.fork(it->first, id);
    seqs_[id] = it->second;
    ++forks;
  }

  void finish() {
    auto it = any();
    kv_.free(it->first);
    seqs_.erase(it);
  }

  void check() {
    std::vector<int32_t> refs(kv_.numBlocks(), 0);
    for (const auto &[id, s] : seqs_) {
      const std::vector<int32_t> &table = kv_.blockTable(id);
      ASSERT_EQ(static_cast<int64_t>(table.size()),
                (kv_.numTokens(id) + bs_ - 1) / bs_);
      ASSERT_EQ(kv_.numTokens(id), s.computed);
      std::set<int32_t> distinct(table.begin(), table.end());
      ASSERT_EQ(distinct.size(), table.size()) << "a block twice in a table";
      for (int32_t b : table)
        ++refs[b];
      for (int64_t p = 0; p < s.computed; ++p)
        ASSERT_EQ(
            shadow_[kv_.slotOf(id, p)],
            std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + p + 1))
            << "sequence " << id << " position " << p;
    }
    int32_t free = 0;
    for (int32_t b = 0; b < kv_.numBlocks(); ++b) {
      ASSERT_EQ(kv_.refCount(b), refs[b]) << "block " << b;
      free += refs[b] == 0;
    }
    ASSERT_EQ(kv_.numFreeBlocks(), free);
  }

  std::mt19937 rng_;
  KvCacheManager kv_;
  int32_t bs_;
  std::vector<std::vector<int32_t>> shadow_;
  std::map<SeqId, Seq> seqs_;
  SeqId next_ = 0;
};

TEST(KvCacheManager, RandomWorkloadsKeepEveryInvariant) {
  int64_t hits = 0, forks = 0, copies = 0, rejected = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    for (int32_t bs : {1, 2, 4}) {
      Workload w(seed, 12 + static_cast<int32_t>(seed % 5) * 4, bs);
      w.run(300);
      if (::testing::Test::HasFatalFailure())
        return;
      hits += w.hits;
      forks += w.forks;
      copies += w.copies;
      rejected += w.rejected;
    }
  }
  // The workload reached every path it means to check.
  EXPECT_GT(hits, 100);
  EXPECT_GT(forks, 100);
  EXPECT_GT(copies, 100);
  EXPECT_GT(rejected, 100);
}

} // namespace
