//===- TransformerDialect.h - the tfm dialect -------------------*- C++ -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_H
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include <optional>

#include "llmc/Dialect/Transformer/IR/TransformerEnums.h.inc"

#include "llmc/Dialect/Transformer/IR/TransformerAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "llmc/Dialect/Transformer/IR/TransformerAttrs.h.inc"

#include "llmc/Dialect/Transformer/IR/TransformerOpsDialect.h.inc"

namespace llmc::tfm {

/// The dialect, for its typed attribute helpers
/// (`dialect(ctx).getKernelConfigAttrHelper()` and the like).
TransformerDialect &dialect(mlir::MLIRContext *ctx);

} // namespace llmc::tfm

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_H
