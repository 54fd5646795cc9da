//===- CudaDriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// llm-run never links libcuda: the driver is opened with dlopen when a
// cuda artifact is loaded, so the same binary starts (and serves cpu
// artifacts) on machines without a GPU driver. Only the types come from
// the toolkit's cuda.h.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_HAL_CUDA_CUDADRIVER_H
#define LLMC_RUNTIME_HAL_CUDA_CUDADRIVER_H

#include <cuda.h>

#include <string>

namespace llmc::rt {

struct CudaDriver {
  /// The process's driver, opened on first use; throws rt::Error when
  /// libcuda.so.1 cannot be opened or lacks a function.
  static const CudaDriver &get();

  /// Throws rt::Error "<what>: <the driver's message> (CUDA error N)"
  /// unless `r` is CUDA_SUCCESS.
  void check(CUresult r, const std::string &what) const;
  std::string errorString(CUresult r) const;

#define LLMC_CUDA_FN(name) decltype(&::name) name = nullptr;
#include "runtime/hal/cuda/CudaDriverFunctions.def"
#undef LLMC_CUDA_FN
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_CUDA_CUDADRIVER_H
