//===- KvPool.h - how many KV blocks a device gets --------------*- C++ -*-===//
//
// The KV pool is sized from memory, not from max_seq_len x prompts: an
// explicit block count, an explicit amount of memory, or by default a
// fraction of what the device has left after the weights and the arena,
// never more than `maxSeqs` full-length sequences need.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ENGINE_KVPOOL_H
#define LLMC_RUNTIME_ENGINE_KVPOOL_H

#include "schema/Artifact.h"

#include <cstdint>
#include <optional>
#include <string>

namespace llmc::engine {

struct KvPoolOptions {
  std::optional<int64_t> blocks;   // --kv-blocks
  std::optional<double> memoryGiB; // --kv-memory
  double fraction = 0.5;           // of the memory left, by default
  int64_t maxSeqs = 256;           // cap: this many full-length sequences
};

struct KvPool {
  int64_t blocks = 0;
  int64_t bytes = 0;
  int64_t tokens = 0;
  /// "4096 blocks x 16 tokens = 65536 tokens (2.00 GiB), 16.0 sequences of
  /// 4096 tokens"
  std::string describe(const schema::Manifest &m) const;
};

/// Throws rt::Error when even one block does not fit.
KvPool sizeKvPool(const schema::Manifest &m, int64_t memoryAvailable,
                  const KvPoolOptions &options);

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_KVPOOL_H
