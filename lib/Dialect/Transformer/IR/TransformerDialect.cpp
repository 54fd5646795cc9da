//===- TransformerDialect.cpp - tfm dialect registration ------------------===//
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace llmc::tfm;

#include "llmc/Dialect/Transformer/IR/TransformerOpsDialect.cpp.inc"

#include "llmc/Dialect/Transformer/IR/TransformerEnums.cpp.inc"

#include "llmc/Dialect/Transformer/IR/TransformerAttrInterfaces.cpp.inc"

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

TransformerDialect &llmc::tfm::dialect(MLIRContext *ctx) {
  return *ctx->getOrLoadDialect<TransformerDialect>();
}

LogicalResult
TransformerDialect::verifyOperationAttribute(Operation *op,
                                             NamedAttribute attribute) {
  StringRef name = attribute.getName().getValue();
  Attribute value = attribute.getValue();
  auto expect = [&](bool ok, StringRef what) -> LogicalResult {
    if (ok)
      return success();
    return op->emitOpError() << "attribute '" << name << "' must be " << what;
  };
  if (name == getStepAttrHelper().getName()) {
    auto func = dyn_cast<func::FuncOp>(op);
    if (failed(expect(func && isa<UnitAttr>(value),
                      "a unit attribute on a func.func")))
      return failure();
    return StepSignature::verify(func);
  }
  if (name == getKernelConfigAttrHelper().getName())
    return expect(isa<KernelConfigAttrInterface>(value) &&
                      op->getDialect() == this && op->getNumResults() > 0,
                  "a kernel configuration (#tfm.cpu_kernel, "
                  "#tfm.cuda_kernel) on a tfm op with results");
  if (name == getArenaOffsetsAttrHelper().getName()) {
    auto offsets = dyn_cast<DenseI64ArrayAttr>(value);
    return expect(offsets && offsets.size() ==
                                 static_cast<int64_t>(op->getNumResults()),
                  "an array of one offset per result");
  }
  if (name == getArenaAttrHelper().getName())
    return expect(isa<ArenaAttr>(value) && isa<ModuleOp>(op),
                  "a #tfm.arena on a module");
  if (name == getModelAttrHelper().getName())
    return expect(isa<ModelAttr>(value) && isa<ModuleOp>(op),
                  "a #tfm.model on a module");
  return op->emitOpError() << "unknown tfm attribute '" << name << "'";
}
