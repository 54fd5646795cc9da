//===- CudaDevice.h - run an artifact's plan on an NVIDIA GPU ---*- C++ -*-===//
//
// The CUDA device behind the device seam: the driver opened at run time,
// the kernels loaded from the artifact's cubin (when built for this GPU's
// architecture) or its PTX (JIT-compiled by the driver for a newer GPU), one
// stream, the weights, KV pool, arena, step inputs and logits allocated
// once, and every launch of the plan run in order on the stream: grid
// ceil(work items / threads) blocks of the plan's threads. A parallel
// artifact's collectives and pipeline sends are NCCL calls on the same
// stream.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_HAL_CUDA_CUDADEVICE_H
#define LLMC_RUNTIME_HAL_CUDA_CUDADEVICE_H

#include "runtime/hal/Device.h"
#include "runtime/hal/PlanBinding.h"

#include <memory>
#include <string>

namespace llmc::rt {

class Artifact;

/// The compute capability as the artifact names architectures (sm_90a
/// needs exactly 9.0; sm_80 runs on 8.0 and, through PTX, anything newer).
struct GpuArch {
  int major = 0, minor = 0;
  bool archSpecific = false; // the "a" suffix: only this exact GPU
  static GpuArch parse(const std::string &arch); // throws rt::Error
};

/// How to load kernels built for `built` on a GPU of compute capability
/// `gpu`: the cubin (same major.minor), the PTX (a newer GPU, not
/// arch-specific), or not at all (nullopt; `why` says why).
enum class ModuleChoice { Cubin, Ptx };
std::optional<ModuleChoice> chooseModule(const GpuArch &built, bool haveCubin,
                                         int gpuMajor, int gpuMinor,
                                         std::string &why);

/// `options.gpu` is the device; a parallel artifact's rank also gets NCCL
/// communicators over `options.comm` (its stage's tensor-parallel group)
/// and `options.world` (the pipeline's sends), bootstrapped over MPI.
std::unique_ptr<Device> createCudaDevice(const Artifact &artifact,
                                         const DeviceOptions &options);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_CUDA_CUDADEVICE_H
