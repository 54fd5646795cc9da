//===- BlockManager.cpp - paged KV cache block allocation -----------------===//
#include "runtime/kv/BlockManager.h"

#include <stdexcept>
#include <string>

namespace llmc::kv {

BlockManager::BlockManager(int32_t numBlocks, int32_t blockSize)
    : blockSize_(blockSize) {
  if (numBlocks <= 0 || blockSize <= 0)
    throw std::invalid_argument("BlockManager: numBlocks and blockSize must "
                                "be positive");
  refCounts_.assign(numBlocks, 0);
  // Pop from the back: hand out low block ids first.
  freeList_.reserve(numBlocks);
  for (int32_t b = numBlocks - 1; b >= 0; --b)
    freeList_.push_back(b);
}

int32_t BlockManager::blocksNeeded(SeqId seq, int64_t n) const {
  int64_t have = 0, tokens = 0;
  bool sharedTail = false;
  if (auto it = seqs_.find(seq); it != seqs_.end()) {
    have = static_cast<int64_t>(it->second.blocks.size());
    tokens = it->second.numTokens;
    sharedTail = tokens % blockSize_ != 0 &&
                 refCounts_[it->second.blocks.back()] > 1 && n > 0;
  }
  int64_t want = (tokens + n + blockSize_ - 1) / blockSize_;
  return static_cast<int32_t>(want - have + (sharedTail ? 1 : 0));
}

int32_t BlockManager::takeBlock() {
  int32_t b = freeList_.back();
  freeList_.pop_back();
  refCounts_[b] = 1;
  return b;
}

std::optional<Reservation> BlockManager::append(SeqId seq, int64_t n) {
  if (n < 0)
    throw std::invalid_argument("BlockManager::append: negative token count");
  if (blocksNeeded(seq, n) > numFreeBlocks())
    return std::nullopt;
  Sequence &s = seqs_[seq];
  Reservation r;
  if (n > 0 && s.numTokens % blockSize_ != 0 &&
      refCounts_[s.blocks.back()] > 1) {
    int32_t shared = s.blocks.back();
    int32_t copy = takeBlock();
    --refCounts_[shared];
    s.blocks.back() = copy;
    r.copies.push_back({shared, copy});
  }
  r.slots.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t pos = s.numTokens + i;
    if (pos / blockSize_ >= static_cast<int64_t>(s.blocks.size()))
      s.blocks.push_back(takeBlock());
    r.slots.push_back(static_cast<int64_t>(s.blocks[pos / blockSize_]) *
                          blockSize_ +
                      pos % blockSize_);
  }
  s.numTokens += n;
  return r;
}

void BlockManager::fork(SeqId parent, SeqId child) {
  auto it = seqs_.find(parent);
  if (it == seqs_.end())
    throw std::out_of_range("BlockManager::fork: unknown sequence " +
                            std::to_string(parent));
  if (seqs_.count(child))
    throw std::invalid_argument("BlockManager::fork: sequence " +
                                std::to_string(child) + " already exists");
  Sequence copy = it->second;
  for (int32_t b : copy.blocks)
    ++refCounts_[b];
  seqs_.emplace(child, std::move(copy));
}

void BlockManager::release(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end())
    return;
  for (int32_t b : it->second.blocks)
    if (--refCounts_[b] == 0)
      freeList_.push_back(b);
  seqs_.erase(it);
}

const std::vector<int32_t> &BlockManager::blockTable(SeqId seq) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end())
    throw std::out_of_range("BlockManager: unknown sequence " +
                            std::to_string(seq));
  return it->second.blocks;
}

int64_t BlockManager::numTokens(SeqId seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.numTokens;
}

int64_t BlockManager::slotOf(SeqId seq, int64_t pos) const {
  const std::vector<int32_t> &table = blockTable(seq);
  if (pos < 0 || pos >= numTokens(seq))
    throw std::out_of_range("BlockManager::slotOf: position " +
                            std::to_string(pos) + " not held by sequence " +
                            std::to_string(seq));
  return static_cast<int64_t>(table[pos / blockSize_]) * blockSize_ +
         pos % blockSize_;
}

} // namespace llmc::kv
