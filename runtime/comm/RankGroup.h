//===- RankGroup.h - rank 0 drives the other ranks, step by step -*- C++
//-*-===//
//
// One scheduler for all ranks: rank 0 runs the engine (and the server), and
// its device is a RankGroupDevice that sends every call (allocate, load
// weights, run a step, copy KV blocks) to the other ranks before running it
// on its own device; the other ranks sit in serveRank(), doing the same on
// theirs. The step's inputs (token ids, positions, block tables, ...) thus
// reach every rank, and the plan's collectives meet in the same order
// everywhere.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_COMM_RANKGROUP_H
#define LLMC_RUNTIME_COMM_RANKGROUP_H

#include "runtime/comm/Communicator.h"
#include "runtime/hal/Device.h"

#include <functional>
#include <memory>

namespace llmc::rt {

/// What rank 0 tells the others.
enum class RankCommand : int64_t {
  Allocate = 1,
  LoadWeights,
  Step,
  CopyBlocks,
  Shutdown
};

/// Rank 0's end of the group: sends commands (each once).
class RankGroup {
public:
  explicit RankGroup(std::shared_ptr<Communicator> comm)
      : comm_(std::move(comm)) {}
  ~RankGroup() { shutdown(); }
  Communicator &comm() const { return *comm_; }
  /// Sends `cmd` with `arg` and `payload` (int32s) to every other rank.
  void send(RankCommand cmd, int64_t arg,
            const std::vector<int32_t> &payload = {});
  /// Tells the other ranks to finish (idempotent; also on destruction).
  void shutdown();

private:
  std::shared_ptr<Communicator> comm_;
  bool down_ = false;
};

/// Rank 0's device: every call goes to every rank, then to `local`.
class RankGroupDevice : public Device {
public:
  RankGroupDevice(std::unique_ptr<Device> local,
                  std::shared_ptr<RankGroup> group)
      : local_(std::move(local)), group_(std::move(group)) {}

  void loadWeights(AlignedBuffer weights) override;
  void allocate(int64_t numKvBlocks) override;
  int64_t numKvBlocks() const override { return local_->numKvBlocks(); }
  void run(const StepInputs &inputs, std::vector<float> &logits) override;
  void copyBlocks(const std::vector<kv::BlockCopy> &copies) override;
  /// The least any rank has (ranks may share a machine's memory).
  int64_t memoryAvailable() const override;
  bool hasSeparateMemory() const override {
    return local_->hasSeparateMemory();
  }

private:
  std::unique_ptr<Device> local_;
  std::shared_ptr<RankGroup> group_;
};

/// A rank other than 0: runs rank 0's commands on `device` until it is
/// told to finish. `loadWeights` makes this rank's packed weights.
void serveRank(Device &device, Communicator &comm,
               const std::function<AlignedBuffer()> &loadWeights);

/// The step inputs as int32s and back (what Step sends).
std::vector<int32_t> packStep(const StepInputs &in);
StepInputs unpackStep(const std::vector<int32_t> &packed);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_COMM_RANKGROUP_H
