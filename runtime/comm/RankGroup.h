//===- RankGroup.h - rank 0 drives the other ranks -------------*- C++ -*-===//
//
// One scheduler for all ranks: rank 0 runs the engine (and the server), and
// its device is a RankGroupDevice that sends every call (allocate, load
// weights, run a step, copy KV blocks) to the other ranks before running it
// on its own device; the other ranks sit in serveRank(), doing the same on
// theirs. The step's inputs (token ids, positions, block tables, ...) thus
// reach every rank, and the plan's collectives meet in the same order
// everywhere. With pipeline parallelism every rank splits the step into
// the same micro-batches, so the stages overlap (stage 1 works on
// micro-batch 0 while stage 0 works on micro-batch 1), and rank 0 gets the
// logits from the last stage.
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

/// How a job's ranks are laid out: rank = pipeline stage * tp + its
/// tensor-parallel rank.
struct RankLayout {
  int64_t tp = 1, pp = 1;
  /// Micro-batches a step is split into when pp > 1 (at most one per
  /// sequence); stages work on different micro-batches at once. 0: by the
  /// step's size (microBatchesFor).
  int64_t microBatches = 0;
};

/// Tokens a micro-batch needs before a step is split (by default).
inline constexpr int64_t kMinMicroBatchTokens = 64;
/// The micro-batches of a step of `tokens`: `layout.microBatches` when set,
/// else one per kMinMicroBatchTokens tokens, at most pp (splitting a
/// decode step makes every stage read its weights once per micro-batch).
int64_t microBatchesFor(const RankLayout &layout, int64_t tokens);

/// A rank's communicators: the job's (`world`: commands, pipeline sends)
/// and its pipeline stage's tensor-parallel group's (`tensor`).
struct RankComms {
  std::shared_ptr<Communicator> world, tensor;
};
/// Splits `world` into the stages' tensor-parallel groups. Every rank
/// calls it, before anything else is sent.
RankComms splitRanks(std::shared_ptr<Communicator> world,
                     const RankLayout &layout);

/// Rank 0's end of the group: sends commands (each once).
class RankGroup {
public:
  RankGroup(RankComms comms, RankLayout layout)
      : comms_(std::move(comms)), layout_(layout) {}
  ~RankGroup() { shutdown(); }
  Communicator &comm() const { return *comms_.world; }
  const RankComms &comms() const { return comms_; }
  const RankLayout &layout() const { return layout_; }
  /// Sends `cmd` with `arg` and `payload` (int32s) to every other rank.
  void send(RankCommand cmd, int64_t arg,
            const std::vector<int32_t> &payload = {});
  /// Tells the other ranks to finish (idempotent; also on destruction).
  void shutdown();

private:
  RankComms comms_;
  RankLayout layout_;
  bool down_ = false;
};

/// Rank 0's device: every call goes to every rank, then to `local`.
class RankGroupDevice : public Device {
public:
  /// `vocab`: the logits of a row (the last pipeline stage's).
  RankGroupDevice(std::unique_ptr<Device> local,
                  std::shared_ptr<RankGroup> group, int64_t vocab)
      : local_(std::move(local)), group_(std::move(group)), vocab_(vocab) {}

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
  int64_t vocab_;
};

/// A rank other than 0: runs rank 0's commands on `device` until it is
/// told to finish. `loadWeights` makes this rank's packed weights.
void serveRank(Device &device, Communicator &world, const RankLayout &layout,
               const std::function<AlignedBuffer()> &loadWeights);

/// The step inputs as int32s and back (what Step sends).
std::vector<int32_t> packStep(const StepInputs &in);
StepInputs unpackStep(const std::vector<int32_t> &packed);

/// `in` as up to `n` steps of consecutive sequences with about as many
/// tokens each; their logits rows, one after another, are `in`'s. One
/// step (`in` itself) when its tokens are not grouped by sequence in order
/// or its logits rows are not in token order.
std::vector<StepInputs> splitMicroBatches(const StepInputs &in, int64_t n);

/// One step of a pipeline-parallel job on this rank: `in` split into
/// `microBatches` that go through the stages one after another (each
/// stage's plan receives from the one before and sends to the next), the
/// last stage's logits sent to rank 0, which returns them in `logits`
/// (`vocab` per row).
void runPipelineStep(Device &device, Communicator &world,
                     const RankLayout &layout, const StepInputs &in,
                     int64_t microBatches, int64_t vocab,
                     std::vector<float> &logits);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_COMM_RANKGROUP_H
