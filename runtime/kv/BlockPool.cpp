//===- BlockPool.cpp - KV blocks: refcounts, LRU free queue, prefix cache -===//
#include "runtime/kv/BlockPool.h"

#include <stdexcept>
#include <string>

namespace llmc::kv {

size_t BlockKeyHash::operator()(const BlockKey &k) const {
  // FNV-1a over the parent identity and the tokens.
  uint64_t h = 14695981039346656037ull;
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(static_cast<uint64_t>(static_cast<uint32_t>(k.parent)));
  mix(k.parentGeneration);
  for (int32_t t : k.tokens)
    mix(static_cast<uint64_t>(static_cast<uint32_t>(t)));
  return static_cast<size_t>(h);
}

BlockPool::BlockPool(int32_t numBlocks) {
  if (numBlocks <= 0)
    throw std::invalid_argument("BlockPool: the pool needs at least one "
                                "block");
  blocks_.resize(numBlocks);
  for (int32_t b = 0; b < numBlocks; ++b)
    pushFree(b);
}

void BlockPool::unlinkFree(int32_t b) {
  Block &blk = blocks_[b];
  (blk.prev >= 0 ? blocks_[blk.prev].next : head_) = blk.next;
  (blk.next >= 0 ? blocks_[blk.next].prev : tail_) = blk.prev;
  blk.prev = blk.next = -1;
  --numFree_;
}

void BlockPool::pushFree(int32_t b) {
  Block &blk = blocks_[b];
  blk.prev = tail_;
  blk.next = -1;
  (tail_ >= 0 ? blocks_[tail_].next : head_) = b;
  tail_ = b;
  ++numFree_;
}

void BlockPool::uncache(int32_t b) {
  Block &blk = blocks_[b];
  if (!blk.cached)
    return;
  cached_.erase(blk.key);
  blk.cached = false;
  blk.key = BlockKey();
}

int32_t BlockPool::allocate() {
  if (head_ < 0)
    throw std::logic_error("BlockPool::allocate: no free block");
  int32_t b = head_;
  unlinkFree(b);
  uncache(b);
  Block &blk = blocks_[b];
  ++blk.generation;
  blk.refs = 1;
  return b;
}

void BlockPool::addRef(int32_t b) {
  Block &blk = blocks_.at(b);
  if (blk.refs++ == 0)
    unlinkFree(b);
}

void BlockPool::release(int32_t b) {
  Block &blk = blocks_.at(b);
  if (blk.refs <= 0)
    throw std::logic_error("BlockPool::release: block " + std::to_string(b) +
                           " is already free");
  if (--blk.refs == 0)
    pushFree(b);
}

std::optional<int32_t> BlockPool::lookup(const BlockKey &key) const {
  auto it = cached_.find(key);
  if (it == cached_.end())
    return std::nullopt;
  return it->second;
}

void BlockPool::cache(int32_t b, BlockKey key) {
  Block &blk = blocks_.at(b);
  if (blk.cached || cached_.count(key))
    return;
  blk.cached = true;
  blk.key = key;
  cached_.emplace(std::move(key), b);
}

void BlockPool::clearCache() {
  for (int32_t b = 0; b < numBlocks(); ++b)
    uncache(b);
}

} // namespace llmc::kv
