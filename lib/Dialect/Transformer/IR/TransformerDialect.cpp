//===- TransformerDialect.cpp - tfm dialect registration
//-------------------===//
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace llmc::tfm;

#include "llmc/Dialect/Transformer/IR/TransformerOpsDialect.cpp.inc"

#include "llmc/Dialect/Transformer/IR/TransformerEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "llmc/Dialect/Transformer/IR/TransformerAttrs.cpp.inc"

void TransformerDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "llmc/Dialect/Transformer/IR/TransformerOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "llmc/Dialect/Transformer/IR/TransformerAttrs.cpp.inc"
      >();
}
