//===- Fusion.cpp - the fusion passes, in the order every target runs them ===//
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

namespace llmc {

void addFusionPasses(mlir::OpPassManager &pm) {
  pm.addPass(createHoistGather());
  pm.addPass(createMergeProjections());
  pm.addPass(createFuseAddNorm());
  pm.addPass(createFuseQKVRopeCache());
  pm.addPass(createFuseEpilogues());
}

} // namespace llmc
