//===- TransformerOps.h - tfm operations ------------------------*- C++ -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMEROPS_H
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMEROPS_H

#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "llmc/Dialect/Transformer/IR/TransformerOps.h.inc"

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMEROPS_H
