//===- TargetInfo.h - the CPU target's facts and kernel choices -*- C++ -*-===//
#ifndef LLMC_TARGET_CPU_TARGETINFO_H
#define LLMC_TARGET_CPU_TARGETINFO_H

#include "llmc/Conversion/TransformerToLoops/TargetInfo.h"

#include "llvm/ADT/StringRef.h"

namespace llmc {

/// What the CPU named by an LLVM CPU name ("native": the compiling host)
/// has: vector registers (32 with AVX-512, else 16) and f32 lanes per
/// vector (16 with AVX-512, 8 with AVX, else 4). Unknown names count as a
/// baseline x86-64 (the compile reports them).
struct CPUFeatures {
  int64_t vectorRegisters = 16;
  int64_t vectorWidth = 4;
  static CPUFeatures get(llvm::StringRef cpu);
};

/// The CPU: every kernel is called by each runtime thread with its range
/// [begin, end) of the kernel's work items (two trailing index arguments).
class CPUTargetInfo : public TargetInfo {
public:
  explicit CPUTargetInfo(CPUFeatures features) : features(features) {}

  llvm::StringRef getName() const override { return "cpu"; }
  void prepareKernel(mlir::func::FuncOp kernel) const override;
  std::pair<mlir::Value, mlir::Value>
  getWorkRange(mlir::OpBuilder &b, mlir::Location loc,
               mlir::func::FuncOp kernel, mlir::Value extent) const override;
  int64_t getVectorWidth() const override { return features.vectorWidth; }

private:
  CPUFeatures features;
};

/// The (token rows, output channels) a linear kernel computes per pass over
/// k, for `weightRows` weight rows per output channel (2 for swiglu) and
/// `registers` vector registers (see llmc-cpu-configure-kernels).
/// `weightLoadCost` is what a weight vector costs against an input
/// broadcast: 1 for f32, 3 for bf16/f16 (load, widen, shift or convert),
/// which favours more token rows per weight vector.
std::pair<int64_t, int64_t> chooseLinearBlocking(int64_t weightRows,
                                                 int64_t registers,
                                                 int64_t weightLoadCost = 1);

/// Token rows per cache tile of a linear with `k` inputs: as many as fit
/// half of a 256 KiB cache share, a multiple of `rowBlock`, at least one
/// block.
int64_t chooseTileRows(int64_t k, int64_t rowBlock);

} // namespace llmc

#endif // LLMC_TARGET_CPU_TARGETINFO_H
