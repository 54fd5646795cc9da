//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
#include "runtime/hal/cuda/CudaDriver.h"
#include "runtime/support/Error.h"

#include <dlfcn.h>

namespace llmc::rt {

namespace {

/// The exported name of a driver function: cuda.h maps some names to their
/// current versions (cuMemAlloc -> cuMemAlloc_v2), whose symbols the
/// library exports.
#define LLMC_STR2(x) #x
#define LLMC_STR(x) LLMC_STR2(x)

CudaDriver load() {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::string why = dlerror();
    fail("this machine has no CUDA driver ({}); a cuda artifact needs an "
         "NVIDIA GPU and its driver",
         why);
  }
  CudaDriver d;
#define LLMC_CUDA_FN(name)                                                     \
  d.name = reinterpret_cast<decltype(d.name)>(dlsym(lib, LLMC_STR(name)));     \
  if (!d.name)                                                                 \
    fail("libcuda.so.1 has no {} (a driver too old for CUDA 12?)",             \
         LLMC_STR(name));
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
  d.check(d.cuInit(0), "cuInit");
  return d;
}

} // namespace

const CudaDriver &CudaDriver::get() {
  static const CudaDriver driver = load();
  return driver;
}

std::string CudaDriver::errorString(CUresult r) const {
  const char *s = nullptr;
  if (cuGetErrorString && cuGetErrorString(r, &s) == CUDA_SUCCESS && s)
    return s;
  return "unknown error";
}

void CudaDriver::check(CUresult r, const std::string &what) const {
  if (r != CUDA_SUCCESS)
    fail("{}: {} (CUDA error {})", what, errorString(r), static_cast<int>(r));
}

} // namespace llmc::rt
