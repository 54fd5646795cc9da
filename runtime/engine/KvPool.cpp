//===- KvPool.cpp - how many KV blocks a device gets ----------------------===//
#include "runtime/engine/KvPool.h"
#include "runtime/support/Error.h"

#include <algorithm>

namespace llmc::engine {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
}

std::string KvPool::describe(const schema::Manifest &m) const {
  return fmt::format("{} blocks x {} tokens = {} tokens ({:.2f} GiB), {:.1f} "
                     "sequences of {} tokens",
                     blocks, m.kvBlockSize(), tokens, bytes / kGiB,
                     static_cast<double>(tokens) / m.maxSeqLen, m.maxSeqLen);
}

KvPool sizeKvPool(const schema::Manifest &m, int64_t memoryAvailable,
                  const KvPoolOptions &options) {
  // A parallel artifact's ranks differ (pipeline stages hold different
  // layers): every rank's pool has the same blocks, sized for the rank
  // that needs the most.
  int64_t perBlock = m.kvBytesPerBlock();
  int64_t weights = m.weightsBytes, arena = m.arenaBytes;
  for (const schema::RankPart &p : m.ranks) {
    perBlock = std::max(perBlock, schema::bytesPerBlock(p.kvCaches));
    if (p.weightsBytes + p.arenaBytes > weights + arena) {
      weights = p.weightsBytes;
      arena = p.arenaBytes;
    }
  }
  if (perBlock <= 0)
    rt::fail("the artifact has no KV cache");
  int64_t blocksPerSeq = (m.maxSeqLen + m.kvBlockSize() - 1) / m.kvBlockSize();
  int64_t blocks = 0;
  if (options.blocks) {
    if (*options.blocks < 1)
      rt::fail("--kv-blocks must be >= 1, got {}", *options.blocks);
    blocks = *options.blocks;
  } else if (options.memoryGiB) {
    if (!(*options.memoryGiB > 0))
      rt::fail("--kv-memory must be a positive number of GiB, got {}",
               *options.memoryGiB);
    blocks = static_cast<int64_t>(*options.memoryGiB * kGiB) / perBlock;
    if (blocks < 1)
      rt::fail("--kv-memory {} GiB holds no KV block ({} bytes each)",
               *options.memoryGiB, perBlock);
  } else {
    int64_t left = memoryAvailable - weights - arena;
    int64_t budget =
        static_cast<int64_t>(options.fraction * static_cast<double>(left));
    blocks = budget > 0 ? budget / perBlock : 0;
    if (blocks < 1)
      rt::fail("not enough memory for a KV cache: {:.2f} GiB available, the "
               "weights take {:.2f} GiB and the arena {:.2f} GiB (set "
               "--kv-memory or --kv-blocks)",
               memoryAvailable / kGiB, weights / kGiB, arena / kGiB);
    blocks =
        std::min(blocks, std::max<int64_t>(1, options.maxSeqs) * blocksPerSeq);
  }
  // Sizes stay far from overflowing 64 bits (2^50 bytes: a petabyte).
  constexpr int64_t kMaxPoolBytes = int64_t(1) << 50;
  if (blocks > kMaxPoolBytes / perBlock)
    rt::fail("a KV pool of {} blocks of {} bytes is past any machine's "
             "memory (set --kv-blocks or --kv-memory lower)",
             blocks, perBlock);
  KvPool pool;
  pool.blocks = blocks;
  pool.bytes = blocks * perBlock;
  pool.tokens = blocks * m.kvBlockSize();
  return pool;
}

} // namespace llmc::engine
