//===- TargetInfo.h - the CUDA target's work mapping ------------*- C++ -*-===//
#ifndef LLMC_TARGET_CUDA_TARGETINFO_H
#define LLMC_TARGET_CUDA_TARGETINFO_H

#include "llmc/Conversion/TransformerToLoops/TargetInfo.h"

namespace llmc {

/// The GPU with the thread-per-item strategy: each thread computes work
/// item blockIdx.x * blockDim.x + threadIdx.x of the kernel's extent.
class CUDATargetInfo : public TargetInfo {
public:
  llvm::StringRef getName() const override { return "cuda"; }
  void prepareKernel(mlir::func::FuncOp kernel) const override {}
  std::pair<mlir::Value, mlir::Value>
  getWorkRange(mlir::OpBuilder &b, mlir::Location loc,
               mlir::func::FuncOp kernel, mlir::Value extent) const override;
  int64_t getVectorWidth() const override { return 1; }
};

} // namespace llmc

#endif // LLMC_TARGET_CUDA_TARGETINFO_H
