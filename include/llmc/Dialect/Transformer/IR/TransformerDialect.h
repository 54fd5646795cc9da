//===- TransformerDialect.h - the tfm dialect -------------------*- C++ -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_H
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "llmc/Dialect/Transformer/IR/TransformerOpsDialect.h.inc"

#include "llmc/Dialect/Transformer/IR/TransformerEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "llmc/Dialect/Transformer/IR/TransformerAttrs.h.inc"

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_H
