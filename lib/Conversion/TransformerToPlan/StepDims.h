//===- StepDims.h - which step dimension each dynamic size is ---*- C++ -*-===//
//
// Every dynamic dimension of a step value is one of the step's own sizes:
// its tokens, the rows that need logits, its sequences, the block-table
// width or the pool's blocks. The plan names them so that the runtime can
// size each launch argument from the step's inputs.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_CONVERSION_TRANSFORMERTOPLAN_STEPDIMS_H
#define LLMC_CONVERSION_TRANSFORMERTOPLAN_STEPDIMS_H

#include "llmc/Dialect/Transformer/IR/StepSignature.h"

#include "llvm/ADT/DenseMap.h"

namespace llmc {

class StepDims {
public:
  explicit StepDims(tfm::StepSignature step) : step(step) {}

  /// The step dimension that dynamic dimension `dim` of `v` is; an error
  /// on the defining op when it cannot be told.
  mlir::FailureOr<schema::StepDim> of(mlir::Value v, int64_t dim);
  /// The step dimensions of all of `v`'s dynamic dimensions, in order.
  mlir::FailureOr<llvm::SmallVector<schema::StepDim>> of(mlir::Value v);

private:
  tfm::StepSignature step;
  llvm::DenseMap<std::pair<mlir::Value, int64_t>, schema::StepDim> memo;
};

} // namespace llmc

#endif // LLMC_CONVERSION_TRANSFORMERTOPLAN_STEPDIMS_H
