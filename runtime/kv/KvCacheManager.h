//===- KvCacheManager.h - block tables over the block pool ------*- C++ -*-===//
//
// Which KV blocks each sequence holds, over a BlockPool. A sequence's block
// table covers every token it has slots for; the first tokens may come from
// the prefix cache (blocks another sequence computed for the same tokens),
// and a fork shares all blocks with its parent, copying the shared,
// partly-filled last block when either appends (copy-on-write). The manager
// never touches KV memory: copies are returned for the device to do before
// the step runs.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_KV_KVCACHEMANAGER_H
#define LLMC_RUNTIME_KV_KVCACHEMANAGER_H

#include "runtime/kv/BlockPool.h"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace llmc::kv {

using SeqId = int64_t;

/// A whole-block copy the device must do before the step writes into `dst`.
struct BlockCopy {
  int32_t src;
  int32_t dst;
  bool operator==(const BlockCopy &o) const {
    return src == o.src && dst == o.dst;
  }
};

/// Cached blocks holding a prefix of some tokens.
struct PrefixHit {
  std::vector<int32_t> blocks;
  int64_t tokens = 0; // blocks.size() * block_size
};

class KvCacheManager {
public:
  KvCacheManager(int32_t numBlocks, int32_t blockSize, bool prefixCaching);

  int32_t blockSize() const { return blockSize_; }
  int32_t numBlocks() const { return pool_.numBlocks(); }
  int32_t numFreeBlocks() const { return pool_.numFree(); }
  bool prefixCaching() const { return prefixCaching_; }

  /// The longest run of cached full blocks at the start of `tokens`, leaving
  /// at least the last token to compute (its logits are what a step wants).
  /// Changes nothing; the hit is good until the next allocate().
  PrefixHit findCachedPrefix(const std::vector<int32_t> &tokens) const;

  /// Blocks allocate() would take from the pool.
  int32_t blocksNeeded(SeqId seq, int64_t numNew,
                       const PrefixHit *hit = nullptr) const;

  /// Gives `seq` slots for `numNew` more tokens, creating it (on `hit`'s
  /// blocks, if given) when new. All or nothing: nullopt, and nothing
  /// changed, when that would leave fewer than `keepFree` free blocks.
  /// Returns the copy-on-write copies to do first.
  std::optional<std::vector<BlockCopy>> allocate(SeqId seq, int64_t numNew,
                                                 const PrefixHit *hit = nullptr,
                                                 int32_t keepFree = 0);

  /// Records the full blocks among the first `numComputed` tokens of `seq`
  /// (whose KV the device has now written) in the prefix cache. `tokens`
  /// holds at least that many of the sequence's tokens.
  void cacheComputed(SeqId seq, const std::vector<int32_t> &tokens,
                     int64_t numComputed);

  /// Makes `child` share every block of `parent`.
  void fork(SeqId parent, SeqId child);
  /// Drops `seq`'s blocks (last first, so a prefix outlives its tail in the
  /// cache). Unknown sequences are ignored.
  void free(SeqId seq);

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  const std::vector<int32_t> &blockTable(SeqId seq) const;
  /// Tokens `seq` has slots for.
  int64_t numTokens(SeqId seq) const;
  int64_t slotOf(SeqId seq, int64_t pos) const;
  int32_t refCount(int32_t block) const { return pool_.refCount(block); }
  /// Forgets every cached prefix.
  void resetPrefixCache() { pool_.clearCache(); }

private:
  struct Sequence {
    std::vector<int32_t> blocks;
    int64_t numTokens = 0;
    int64_t numCached = 0; // leading full blocks already in the cache
  };
  bool sharedPartialTail(const Sequence &s, int64_t numNew) const;

  BlockPool pool_;
  int32_t blockSize_;
  bool prefixCaching_;
  std::unordered_map<SeqId, Sequence> seqs_;
};

} // namespace llmc::kv

#endif // LLMC_RUNTIME_KV_KVCACHEMANAGER_H
