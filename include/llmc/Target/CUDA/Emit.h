//===- Emit.h - NVVM kernels -> PTX, and cubin through ptxas ----*- C++ -*-===//
#ifndef LLMC_TARGET_CUDA_EMIT_H
#define LLMC_TARGET_CUDA_EMIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <map>
#include <optional>
#include <string>

namespace llmc {

/// What ptxas said about one kernel entry.
struct PtxasKernelInfo {
  int64_t registers = 0;
  int64_t spillStores = 0, spillLoads = 0;
  int64_t stackBytes = 0;
};

struct CUDABinary {
  std::string ptx;
  std::optional<std::string> cubin;               // when ptxas is found
  std::string ptxasPath;                          // the ptxas used, if any
  std::map<std::string, PtxasKernelInfo> kernels; // by entry name
};

/// Serializes the module's gpu.module (after llmc-cuda-pipeline) to PTX for
/// `arch` through LLVM's NVPTX backend, then, when ptxas is found
/// ($LLMC_PTXAS, else the CUDA toolkit's), assembles it to a cubin and
/// reads the register and spill counts. A ptxas error is an error.
llvm::Expected<CUDABinary> compileCUDAKernels(mlir::ModuleOp module,
                                              llvm::StringRef arch);

/// The ptxas to use, or empty.
std::string findPtxas();

} // namespace llmc

#endif // LLMC_TARGET_CUDA_EMIT_H
