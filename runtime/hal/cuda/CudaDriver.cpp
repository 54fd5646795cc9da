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
#include "runtime/hal/cuda/CudaDriverFunctions.def"
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
