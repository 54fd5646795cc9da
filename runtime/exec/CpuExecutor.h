//===- CpuExecutor.h - run the compiled step on the CPU ---------*- C++ -*-===//
#ifndef LLMC_RUNTIME_EXEC_CPUEXECUTOR_H
#define LLMC_RUNTIME_EXEC_CPUEXECUTOR_H

#include "runtime/artifact/Artifact.h"
#include "runtime/exec/ThreadPool.h"
#include "runtime/kv/BlockManager.h"
#include "runtime/support/AlignedBuffer.h"

#include <vector>

namespace llmc::rt {

/// One scheduler step's flat, ragged batch (DESIGN contract 3).
struct StepBatch {
  std::vector<int32_t> tokenIds, positions, seqIds, slotMapping;
  std::vector<int32_t> blockTables; // numSeqs x maxBlocks, row-major
  int64_t numSeqs = 0, maxBlocks = 0;
  std::vector<int32_t> logitsIndices; // token rows that need logits
};

class CpuExecutor {
public:
  /// Takes the packed weights; allocates the KV pool and the scratch arena;
  /// runs each step on `threads` threads.
  CpuExecutor(const Artifact &artifact, AlignedBuffer weights,
              int64_t numKvBlocks, int threads = 1);

  int64_t numKvBlocks() const { return numKvBlocks_; }

  /// Copies whole KV blocks (copy-on-write) in every cache.
  void copyBlocks(const std::vector<kv::BlockCopy> &copies);

  /// Runs one step; `logits` receives [logitsIndices.size(), vocab].
  void run(const StepBatch &batch, std::vector<float> &logits);

private:
  const Artifact &artifact_;
  AlignedBuffer weights_, kv_, scratch_;
  int64_t numKvBlocks_;
  ThreadPool pool_;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_EXEC_CPUEXECUTOR_H
