//===- BlockManager.h - paged KV cache block allocation ---------*- C++ -*-===//
//
// Owns the KV block pool's bookkeeping: which blocks are free, which
// sequence owns which blocks (its block table) and how many sequences share
// each block. It never touches KV memory: copy-on-write is returned to the
// caller as a list of block copies to perform before the step runs.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_KV_BLOCKMANAGER_H
#define LLMC_RUNTIME_KV_BLOCKMANAGER_H

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace llmc::kv {

using SeqId = int64_t;

/// A whole-block copy the executor must do before writing into `dst`.
struct BlockCopy {
  int32_t src;
  int32_t dst;
  bool operator==(const BlockCopy &o) const {
    return src == o.src && dst == o.dst;
  }
};

/// The KV slots given to newly appended tokens, and any copy-on-write copies
/// that must happen first.
struct Reservation {
  std::vector<int64_t> slots;
  std::vector<BlockCopy> copies;
};

class BlockManager {
public:
  BlockManager(int32_t numBlocks, int32_t blockSize);

  int32_t blockSize() const { return blockSize_; }
  int32_t numBlocks() const { return static_cast<int32_t>(refCounts_.size()); }
  int32_t numFreeBlocks() const {
    return static_cast<int32_t>(freeList_.size());
  }

  /// Blocks that appending `n` tokens to `seq` would take from the pool
  /// (new blocks plus a copy-on-write copy of a shared, partly filled last
  /// block). `seq` need not exist yet.
  int32_t blocksNeeded(SeqId seq, int64_t n) const;

  /// Gives the next `n` token positions of `seq` KV slots, creating the
  /// sequence if it is new. All or nothing: returns nullopt and changes
  /// nothing when the pool has too few free blocks.
  std::optional<Reservation> append(SeqId seq, int64_t n);

  /// Makes `child` share all of `parent`'s blocks (prefix sharing); later
  /// appends to either copy the shared last block on write.
  void fork(SeqId parent, SeqId child);

  /// Releases `seq`'s references; blocks nobody references go back to the
  /// pool.
  void release(SeqId seq);

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  const std::vector<int32_t> &blockTable(SeqId seq) const;
  int64_t numTokens(SeqId seq) const;
  int32_t refCount(int32_t block) const { return refCounts_.at(block); }

  /// The KV slot of token position `pos` of `seq`.
  int64_t slotOf(SeqId seq, int64_t pos) const;

private:
  struct Sequence {
    std::vector<int32_t> blocks;
    int64_t numTokens = 0;
  };

  int32_t takeBlock();

  int32_t blockSize_;
  std::vector<int32_t> refCounts_;
  std::vector<int32_t> freeList_;
  std::unordered_map<SeqId, Sequence> seqs_;
};

} // namespace llmc::kv

#endif // LLMC_RUNTIME_KV_BLOCKMANAGER_H
