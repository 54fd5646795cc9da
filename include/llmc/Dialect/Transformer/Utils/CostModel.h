//===- CostModel.h - per-token work of a tfm op ------------------*- C++
//-*-===//
//
// One estimate of what an op costs, shared by the compile report (flops
// per decode token) and the pipeline partition (balancing stages).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_DIALECT_TRANSFORMER_UTILS_COSTMODEL_H
#define LLMC_DIALECT_TRANSFORMER_UTILS_COSTMODEL_H

#include "mlir/IR/Operation.h"

namespace llmc::tfm {

/// Elements of `v` for one token (dynamic dimensions taken as 1).
int64_t tokenElements(mlir::Value v);

/// Estimated flops of `op` for one token; attention's are per key in its
/// context (multiply by the context length).
int64_t flopsPerToken(mlir::Operation *op);

} // namespace llmc::tfm

#endif // LLMC_DIALECT_TRANSFORMER_UTILS_COSTMODEL_H
