//===- BlockPool.h - KV blocks: refcounts, LRU free queue, prefix cache -*-===//
//
// The bookkeeping of the KV pool's blocks, after vLLM v1's BlockPool: a
// reference count per block, a free queue in least-recently-freed order,
// and a map from a full block's content key to the block that holds it.
// A free block keeps its cached content until it is handed out again, so a
// later request with the same prefix can take it back; allocation takes the
// least recently freed block first and forgets what it held.
//
// A content key is exact, not a hash to trust: the block's tokens and the
// identity of the block holding the previous block_size tokens (its id and
// a generation that changes whenever that block is handed out again). Two
// blocks have equal keys only if they hold KV for equal prefixes.
//
// No KV memory is touched here.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_KV_BLOCKPOOL_H
#define LLMC_RUNTIME_KV_BLOCKPOOL_H

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace llmc::kv {

/// What a full block holds: its tokens after a given parent block.
struct BlockKey {
  int32_t parent = -1; // the block holding the previous tokens
  uint64_t parentGeneration = 0;
  std::vector<int32_t> tokens; // block_size token ids
  bool operator==(const BlockKey &o) const {
    return parent == o.parent && parentGeneration == o.parentGeneration &&
           tokens == o.tokens;
  }
};

struct BlockKeyHash {
  size_t operator()(const BlockKey &k) const;
};

class BlockPool {
public:
  explicit BlockPool(int32_t numBlocks);

  int32_t numBlocks() const { return static_cast<int32_t>(blocks_.size()); }
  /// Blocks nobody references (cached ones included: they can be evicted).
  int32_t numFree() const { return numFree_; }

  /// Takes the least recently freed block (forgetting its cached content),
  /// with one reference. The caller checks numFree() first.
  int32_t allocate();
  /// Adds a reference to `block` (taking it off the free queue if free).
  void addRef(int32_t block);
  /// Drops a reference; at zero the block joins the free queue's tail,
  /// keeping its cached content.
  void release(int32_t block);
  int32_t refCount(int32_t block) const { return blocks_[block].refs; }

  /// The block caching `key`, if any.
  std::optional<int32_t> lookup(const BlockKey &key) const;
  /// Records that `block` (full, referenced) holds `key`. A block already
  /// cached, or a key already held by another block, is left as it is.
  void cache(int32_t block, BlockKey key);
  bool isCached(int32_t block) const { return blocks_[block].cached; }
  /// Changes whenever `block` is handed out by allocate().
  uint64_t generation(int32_t block) const { return blocks_[block].generation; }

  /// Drops every cached key (e.g. after the KV memory was lost).
  void clearCache();

private:
  struct Block {
    int32_t refs = 0;
    uint64_t generation = 0;
    bool cached = false;
    BlockKey key;
    int32_t prev = -1, next = -1; // the free queue, when refs == 0
  };
  void unlinkFree(int32_t block);
  void pushFree(int32_t block);
  void uncache(int32_t block);

  std::vector<Block> blocks_;
  int32_t head_ = -1, tail_ = -1; // least / most recently freed
  int32_t numFree_ = 0;
  std::unordered_map<BlockKey, int32_t, BlockKeyHash> cached_;
};

} // namespace llmc::kv

#endif // LLMC_RUNTIME_KV_BLOCKPOOL_H
