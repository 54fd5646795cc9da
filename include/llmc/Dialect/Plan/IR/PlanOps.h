//===- PlanOps.h - the plan dialect: kernels, launch plan ---*- C++ -*-===//
#ifndef LLMC_DIALECT_PLAN_IR_PLANOPS_H
#define LLMC_DIALECT_PLAN_IR_PLANOPS_H

#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "schema/Artifact.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_ATTRDEF_CLASSES
#include "llmc/Dialect/Plan/IR/PlanAttrs.h.inc"

#include "llmc/Dialect/Plan/IR/PlanOpsDialect.h.inc"

#define GET_OP_CLASSES
#include "llmc/Dialect/Plan/IR/PlanOps.h.inc"

namespace llmc::plan {

/// The dialect, for its typed attribute helpers.
PlanDialect &dialect(mlir::MLIRContext *ctx);

/// Whether `op` is a kernel function (marked `plan.kernel`).
bool isKernel(mlir::Operation *op);

} // namespace llmc::plan

#endif // LLMC_DIALECT_PLAN_IR_PLANOPS_H
