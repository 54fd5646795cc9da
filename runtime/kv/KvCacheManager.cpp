//===- KvCacheManager.cpp - block tables over the block pool --------------===//
#include "runtime/kv/KvCacheManager.h"

#include <stdexcept>
#include <string>

namespace llmc::kv {

KvCacheManager::KvCacheManager(int32_t numBlocks, int32_t blockSize,
                               bool prefixCaching)
    : pool_(numBlocks), blockSize_(blockSize), prefixCaching_(prefixCaching) {
  if (blockSize <= 0)
    throw std::invalid_argument("KvCacheManager: block size must be "
                                "positive");
}

PrefixHit
KvCacheManager::findCachedPrefix(const std::vector<int32_t> &tokens) const {
  PrefixHit hit;
  if (!prefixCaching_ || tokens.empty())
    return hit;
  // Full blocks strictly before the last token.
  int64_t usable = (static_cast<int64_t>(tokens.size()) - 1) / blockSize_;
  BlockKey key;
  key.tokens.resize(blockSize_);
  for (int64_t i = 0; i < usable; ++i) {
    std::copy(tokens.begin() + i * blockSize_,
              tokens.begin() + (i + 1) * blockSize_, key.tokens.begin());
    std::optional<int32_t> b = pool_.lookup(key);
    if (!b)
      break;
    hit.blocks.push_back(*b);
    key.parent = *b;
    key.parentGeneration = pool_.generation(*b);
  }
  hit.tokens = static_cast<int64_t>(hit.blocks.size()) * blockSize_;
  return hit;
}

bool KvCacheManager::sharedPartialTail(const Sequence &s,
                                       int64_t numNew) const {
  return numNew > 0 && s.numTokens % blockSize_ != 0 &&
         pool_.refCount(s.blocks.back()) > 1;
}

int32_t KvCacheManager::blocksNeeded(SeqId seq, int64_t numNew,
                                     const PrefixHit *hit) const {
  int64_t tokens = 0, have = 0, revived = 0;
  bool cow = false;
  if (auto it = seqs_.find(seq); it != seqs_.end()) {
    tokens = it->second.numTokens;
    have = static_cast<int64_t>(it->second.blocks.size());
    cow = sharedPartialTail(it->second, numNew);
  } else if (hit) {
    tokens = hit->tokens;
    have = static_cast<int64_t>(hit->blocks.size());
    for (int32_t b : hit->blocks)
      revived += pool_.refCount(b) == 0; // taken off the free queue
  }
  int64_t want = (tokens + numNew + blockSize_ - 1) / blockSize_;
  return static_cast<int32_t>(want - have + (cow ? 1 : 0) + revived);
}

std::optional<std::vector<BlockCopy>>
KvCacheManager::allocate(SeqId seq, int64_t numNew, const PrefixHit *hit,
                         int32_t keepFree) {
  if (numNew < 0)
    throw std::invalid_argument("KvCacheManager::allocate: negative token "
                                "count");
  if (pool_.numFree() - blocksNeeded(seq, numNew, hit) < keepFree)
    return std::nullopt;
  std::vector<BlockCopy> copies;
  auto [it, created] = seqs_.try_emplace(seq);
  Sequence &s = it->second;
  if (created && hit) {
    for (int32_t b : hit->blocks)
      pool_.addRef(b);
    s.blocks = hit->blocks;
    s.numTokens = hit->tokens;
    s.numCached = static_cast<int64_t>(hit->blocks.size());
  }
  if (sharedPartialTail(s, numNew)) {
    int32_t shared = s.blocks.back();
    int32_t copy = pool_.allocate();
    pool_.release(shared);
    s.blocks.back() = copy;
    copies.push_back({shared, copy});
  }
  int64_t want = (s.numTokens + numNew + blockSize_ - 1) / blockSize_;
  while (static_cast<int64_t>(s.blocks.size()) < want)
    s.blocks.push_back(pool_.allocate());
  s.numTokens += numNew;
  return copies;
}

void KvCacheManager::cacheComputed(SeqId seq,
                                   const std::vector<int32_t> &tokens,
                                   int64_t numComputed) {
  if (!prefixCaching_)
    return;
  auto it = seqs_.find(seq);
  if (it == seqs_.end())
    throw std::out_of_range("KvCacheManager::cacheComputed: unknown "
                            "sequence " +
                            std::to_string(seq));
  Sequence &s = it->second;
  if (numComputed > s.numTokens ||
      numComputed > static_cast<int64_t>(tokens.size()))
    throw std::out_of_range(
        "KvCacheManager::cacheComputed: " + std::to_string(numComputed) +
        " computed tokens but the sequence has slots for " +
        std::to_string(s.numTokens));
  int64_t full = numComputed / blockSize_;
  for (int64_t i = s.numCached; i < full; ++i) {
    BlockKey key;
    if (i > 0) {
      key.parent = s.blocks[i - 1];
      key.parentGeneration = pool_.generation(key.parent);
    }
    key.tokens.assign(tokens.begin() + i * blockSize_,
                      tokens.begin() + (i + 1) * blockSize_);
    pool_.cache(s.blocks[i], std::move(key));
  }
  if (full > s.numCached)
    s.numCached = full;
}

void KvCacheManager::fork(SeqId parent, SeqId child) {
  auto it = seqs_.find(parent);
  if (it == seqs_.end())
    throw std::out_of_range("KvCacheManager::fork: unknown sequence " +
                            std::to_string(parent));
  if (seqs_.count(child))
    throw std::invalid_argument("KvCacheManager::fork: sequence " +
                                std::to_string(child) + " already exists");
  Sequence copy = it->second;
  for (int32_t b : copy.blocks)
    pool_.addRef(b);
  seqs_.emplace(child, std::move(copy));
}

void KvCacheManager::free(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end())
    return;
  const std::vector<int32_t> &blocks = it->second.blocks;
  for (auto b = blocks.rbegin(); b != blocks.rend(); ++b)
    pool_.release(*b);
  seqs_.erase(it);
}

const std::vector<int32_t> &KvCacheManager::blockTable(SeqId seq) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end())
    throw std::out_of_range("KvCacheManager: unknown sequence " +
                            std::to_string(seq));
  return it->second.blocks;
}

int64_t KvCacheManager::numTokens(SeqId seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.numTokens;
}

int64_t KvCacheManager::slotOf(SeqId seq, int64_t pos) const {
  const std::vector<int32_t> &table = blockTable(seq);
  if (pos < 0 || pos >= numTokens(seq))
    throw std::out_of_range("KvCacheManager::slotOf: position " +
                            std::to_string(pos) + " not held by sequence " +
                            std::to_string(seq));
  return static_cast<int64_t>(table[pos / blockSize_]) * blockSize_ +
         pos % blockSize_;
}

} // namespace llmc::kv
