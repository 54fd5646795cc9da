//===- PlanBinding.h - one step's arguments for every launch ----*- C++ -*-===//
//
// What every device does before it runs the plan, whatever its memory:
// resolve each launch's buffers to addresses (the bases of the weights, the
// arena, the KV pool, the step inputs and the logits, plus offsets), the
// dynamic sizes the kernel entry takes, and the work items. Host-side and
// driver-free, so it is tested without a GPU.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_HAL_PLANBINDING_H
#define LLMC_RUNTIME_HAL_PLANBINDING_H

#include "runtime/hal/Device.h"

#include <array>
#include <cstdint>
#include <vector>

namespace llmc::rt {

/// Where a step's buffers start, as integers (host pointers or device
/// addresses).
struct BufferBases {
  uint64_t weights = 0, arena = 0, kv = 0, output = 0;
  std::array<uint64_t, schema::kNumStepInputs> inputs{};
};

/// One launch's arguments for one step.
struct BoundLaunch {
  std::vector<uint64_t> pointers; // one per argument
  std::vector<int64_t> sizes;     // dynamic sizes, argument after argument
  int64_t items = 0;              // work items of the extent
};

/// Bytes per KV block of the caches before cache `c`, for every cache (the
/// pool holds the caches one after another, each over all blocks).
std::vector<int64_t> kvCacheOffsets(const schema::Manifest &m);

/// Binds `entry` for the step `in` on a pool of `kvBlocks` blocks.
void bindLaunch(const schema::PlanEntry &entry, const StepInputs &in,
                int64_t kvBlocks, const std::vector<int64_t> &cacheOffsets,
                const BufferBases &bases, BoundLaunch &out);

/// The shape of argument `a` of `entry` as bound (its dynamic sizes come
/// from `bound.sizes`, argument after argument).
std::vector<int64_t> boundShape(const schema::PlanEntry &entry,
                                const BoundLaunch &bound, size_t a);

/// An all-gather along `axis` of parts shaped `shape`: the communicator
/// gives the parts rank after rank; the result holds, for each of `outer`
/// rows, every rank's `inner` elements in rank order.
struct GatherRuns {
  size_t outer = 1, inner = 1;
};
GatherRuns gatherRuns(const std::vector<int64_t> &shape, int64_t axis);

/// The step inputs packed one after another (i32), each starting on a
/// 64-byte boundary, for one upload; `offsets` gets each input's start in
/// bytes.
void packStepInputs(const StepInputs &in, std::vector<int32_t> &packed,
                    std::array<uint64_t, schema::kNumStepInputs> &offsets);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_PLANBINDING_H
