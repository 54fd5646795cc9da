//===- Device.h - the seam between the engine and a device ------*- C++ -*-===//
//
// Everything above a device (the generator, later the scheduler and the
// server) sees only this: target-neutral step inputs, and a device that owns
// the weights, the KV pool and the activation arena, runs the artifact's
// plan for one step, and copies KV blocks.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_HAL_DEVICE_H
#define LLMC_RUNTIME_HAL_DEVICE_H

#include "runtime/kv/KvCacheManager.h"
#include "runtime/support/AlignedBuffer.h"
#include "schema/Artifact.h"

#include <memory>
#include <vector>

namespace llmc::rt {

class Artifact;
class Communicator;

/// One scheduler step's flat, ragged batch (DESIGN contract 3): T tokens of
/// S sequences, and the R token rows that need logits.
struct StepInputs {
  std::vector<int32_t> tokenIds, positions, seqIds, slotMapping; // [T]
  std::vector<int32_t> blockTables; // [S, maxBlocks], row-major
  int64_t numSeqs = 0, maxBlocks = 0;
  std::vector<int32_t> logitsIndices; // [R]

  /// The step's value of a step dimension, for a pool of `kvBlocks`.
  int64_t size(schema::StepDim dim, int64_t kvBlocks) const;
  /// The data of one input.
  const int32_t *data(schema::StepInput input) const;
};

/// Checks `inputs` against what the artifact was compiled for and the
/// pool: sizes agree, every token id is in the vocabulary, every sequence
/// id names a block-table row, every block is in the pool, every slot is in
/// the pool or negative, every logits index is a token row. Throws
/// rt::Error saying what is wrong.
void checkStepInputs(const StepInputs &inputs, const schema::Manifest &m,
                     int64_t kvBlocks);

class Device {
public:
  virtual ~Device();

  /// Takes the packed weights (host memory; a GPU device uploads them).
  virtual void loadWeights(AlignedBuffer weights) = 0;
  /// Allocates a KV pool of `numKvBlocks` blocks and the activation arena.
  virtual void allocate(int64_t numKvBlocks) = 0;
  virtual int64_t numKvBlocks() const = 0;
  /// Runs one step; `logits` receives [inputs.logitsIndices.size(), vocab].
  virtual void run(const StepInputs &inputs, std::vector<float> &logits) = 0;
  /// Copies whole KV blocks (copy-on-write) in every cache.
  virtual void copyBlocks(const std::vector<kv::BlockCopy> &copies) = 0;
  /// Bytes of memory the device could still give to weights and the KV
  /// pool (host RAM for the CPU, free device memory for a GPU).
  virtual int64_t memoryAvailable() const = 0;
  /// Whether the device has memory of its own, apart from the host's (then
  /// preempted KV could be swapped to the host).
  virtual bool hasSeparateMemory() const { return false; }
};

/// The host's available memory (MemAvailable), in bytes.
int64_t hostMemoryAvailable();

struct DeviceOptions {
  int threads = 1; // CPU: threads running each step
  int gpu = 0;     // CUDA: the device index
  /// A parallel artifact's rank: the transport of its tensor-parallel
  /// group's collectives (its pipeline stage's ranks), and of the whole
  /// job (the pipeline's sends and receives).
  std::shared_ptr<Communicator> comm, world;
  /// Seconds a step of a parallel GPU artifact may wait for its peers
  /// (0: no limit); then the rank's NCCL calls are aborted.
  double timeoutSeconds = 0;
};

/// The device for the artifact's target, with its plan and kernels loaded;
/// throws rt::Error when this build has none.
std::unique_ptr<Device> createDevice(const Artifact &artifact,
                                     const DeviceOptions &options);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_DEVICE_H
