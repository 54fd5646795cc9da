//===- ParallelExtent.h - a kernel op's work items ----------*- C++ -*-===//
//
// Which dimension of each kernel op its lowering splits across threads (or
// blocks), and how many work items that is. The plan builder turns the
// count into a launch extent; the lowering patterns iterate over the range
// of items they are given. Both ask here, so they agree.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_DIALECT_TRANSFORMER_UTILS_PARALLELEXTENT_H
#define LLMC_DIALECT_TRANSFORMER_UTILS_PARALLELEXTENT_H

#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"

#include "mlir/IR/Operation.h"

namespace llmc::tfm {

/// `scale` times the size of dimension `dim` of `sizeOf` (when set) work
/// items.
struct ParallelExtent {
  int64_t scale = 1;
  mlir::Value sizeOf;
  int64_t dim = 0;
};

/// The parallel dimensions the lowering of `op` supports, preferred first;
/// empty for ops that are not kernels (weights, reshapes) or that no
/// lowering supports.
llvm::SmallVector<ParallelDim> getSupportedParallelDims(mlir::Operation *op);

/// The work items of `op` split along `parallel`; an error on `op` when its
/// lowering does not split that dimension or the count is not one dynamic
/// size times a constant.
mlir::FailureOr<ParallelExtent> getParallelExtent(mlir::Operation *op,
                                                  ParallelDim parallel);

} // namespace llmc::tfm

#endif // LLMC_DIALECT_TRANSFORMER_UTILS_PARALLELEXTENT_H
