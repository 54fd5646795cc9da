//===- TargetInfo.h - what the kernel lowering asks of a target -*- C++ -*-===//
//
// The op-family lowering patterns are target-neutral loop nests; what
// differs per target sits behind this interface: how a kernel learns which
// of its work items it computes (CPU: a range the runtime's thread gets;
// CUDA: its block and thread ids), and the vector width.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_CONVERSION_TRANSFORMERTOLOOPS_TARGETINFO_H
#define LLMC_CONVERSION_TRANSFORMERTOLOOPS_TARGETINFO_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <utility>

namespace llmc {

class TargetInfo {
public:
  virtual ~TargetInfo();

  /// A short name for messages ("cpu").
  virtual llvm::StringRef getName() const = 0;

  /// Readies `kernel` for lowering, before any pattern runs (the CPU adds
  /// its work-range arguments).
  virtual void prepareKernel(mlir::func::FuncOp kernel) const = 0;

  /// The work items [begin, end) of the `extent` items of its parallel
  /// dimension that this invocation of `kernel` computes, built at `b`'s
  /// insertion point (clamped to `extent`).
  virtual std::pair<mlir::Value, mlir::Value>
  getWorkRange(mlir::OpBuilder &b, mlir::Location loc,
               mlir::func::FuncOp kernel, mlir::Value extent) const = 0;

  /// f32 lanes of the target's vectors.
  virtual int64_t getVectorWidth() const = 0;
};

} // namespace llmc

#endif // LLMC_CONVERSION_TRANSFORMERTOLOOPS_TARGETINFO_H
