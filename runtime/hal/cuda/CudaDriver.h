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
  LLMC_CUDA_FN(cuInit)
  LLMC_CUDA_FN(cuDriverGetVersion)
  LLMC_CUDA_FN(cuDeviceGet)
  LLMC_CUDA_FN(cuDeviceGetCount)
  LLMC_CUDA_FN(cuDeviceGetAttribute)
  LLMC_CUDA_FN(cuDeviceGetName)
  LLMC_CUDA_FN(cuDevicePrimaryCtxRetain)
  LLMC_CUDA_FN(cuDevicePrimaryCtxRelease)
  LLMC_CUDA_FN(cuCtxSetCurrent)
  LLMC_CUDA_FN(cuModuleLoadData)
  LLMC_CUDA_FN(cuModuleUnload)
  LLMC_CUDA_FN(cuModuleGetFunction)
  LLMC_CUDA_FN(cuMemAlloc)
  LLMC_CUDA_FN(cuMemFree)
  LLMC_CUDA_FN(cuMemGetInfo)
  LLMC_CUDA_FN(cuMemHostAlloc)
  LLMC_CUDA_FN(cuMemFreeHost)
  LLMC_CUDA_FN(cuMemcpyHtoD)
  LLMC_CUDA_FN(cuMemcpyDtoH)
  LLMC_CUDA_FN(cuMemcpyDtoD)
  LLMC_CUDA_FN(cuMemcpyDtoDAsync)
  LLMC_CUDA_FN(cuMemcpyHtoDAsync)
  LLMC_CUDA_FN(cuMemcpyDtoHAsync)
  LLMC_CUDA_FN(cuMemsetD8)
  LLMC_CUDA_FN(cuStreamCreate)
  LLMC_CUDA_FN(cuStreamDestroy)
  LLMC_CUDA_FN(cuStreamSynchronize)
  LLMC_CUDA_FN(cuLaunchKernel)
  LLMC_CUDA_FN(cuGetErrorString)
#undef LLMC_CUDA_FN
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_HAL_CUDA_CUDADRIVER_H
