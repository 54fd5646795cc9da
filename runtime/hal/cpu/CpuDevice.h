//===- CpuDevice.h - run an artifact's plan on the CPU ----------*- C++ -*-===//
//
// Executes the launch plan on a thread pool: every thread walks the plan,
// runs its share of each launch's work items, and waits at a barrier
// before the next launch.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_HAL_CPU_CPUDEVICE_H
#define LLMC_RUNTIME_HAL_CPU_CPUDEVICE_H

#include "runtime/hal/Device.h"
#include "runtime/hal/PlanBinding.h"
#include "runtime/hal/cpu/KernelLibrary.h"
#include "runtime/hal/cpu/ThreadPool.h"

#include <functional>
#include <memory>
#include <string>

namespace llmc::rt {

class CpuDevice : public Device {
public:
  /// The plan of `manifest`, its kernels found by `resolve` (a kernel
  /// library's, or a test's), run on `threads` threads. `keepAlive` holds
  /// what the kernels live in.
  /// `comm` runs the plan's collectives (a parallel artifact's rank: its
  /// tensor-parallel group) and `world` its pipeline sends and receives.
  CpuDevice(const schema::Manifest &manifest,
            const std::function<KernelFn(const std::string &)> &resolve,
            int threads, std::shared_ptr<void> keepAlive = nullptr,
            std::shared_ptr<Communicator> comm = nullptr,
            std::shared_ptr<Communicator> world = nullptr);

  void loadWeights(AlignedBuffer weights) override;
  void allocate(int64_t numKvBlocks) override;
  int64_t numKvBlocks() const override { return numKvBlocks_; }
  void run(const StepInputs &inputs, std::vector<float> &logits) override;
  void copyBlocks(const std::vector<kv::BlockCopy> &copies) override;
  int64_t memoryAvailable() const override { return hostMemoryAvailable(); }

  /// The KV pool (for tests): the caches one after another.
  uint8_t *kvPool() const { return kv_.data(); }

private:
  /// One launch, resolved at load time.
  struct Launch {
    schema::EntryKind kind = schema::EntryKind::Launch;
    int64_t axis = 0; // all_gather
    int peer = 0;     // send / recv: the world rank
    KernelFn fn;
    std::vector<schema::BufferRef> args;
    schema::Extent extent;
    // Filled per step:
    BoundLaunch bound;
    std::vector<void *> pointers;
  };

  /// Runs collective `l` of plan entry `e` (on the calling thread).
  void collective(const schema::PlanEntry &e, const Launch &l);

  schema::Manifest manifest_;
  std::shared_ptr<void> keepAlive_;
  std::shared_ptr<Communicator> comm_, world_;
  bool logits_ = true;          // the plan writes logits (not an early stage)
  std::vector<float> gathered_; // all_gather's rank-major staging
  std::vector<Launch> launches_;
  std::vector<int64_t> cacheOffsets_; // bytes per block before cache c
  AlignedBuffer weights_, kv_, arena_;
  int64_t numKvBlocks_ = 0;
  ThreadPool pool_;
  SpinBarrier barrier_;
};

/// The CPU device of a CPU artifact: its kernel library loaded.
std::unique_ptr<Device>
createCpuDevice(const Artifact &artifact, int threads,
                std::shared_ptr<Communicator> comm = nullptr,
                std::shared_ptr<Communicator> world = nullptr);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_CPU_CPUDEVICE_H
