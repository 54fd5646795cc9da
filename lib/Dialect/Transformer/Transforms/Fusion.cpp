//===- Fusion.cpp - the fusion and storage passes every target runs ---===//
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

namespace llmc {

void addPrecisionPasses(mlir::OpPassManager &pm, llvm::StringRef quantize,
                        llvm::StringRef weightDType, llvm::StringRef kvDType) {
  QuantizeWeightsOptions quant;
  quant.scheme = quantize.str();
  pm.addPass(createQuantizeWeights(quant));
  WeightDTypeOptions weights;
  weights.dtype = weightDType.str();
  pm.addPass(createWeightDType(weights));
  KVDTypeOptions kv;
  kv.dtype = kvDType.str();
  pm.addPass(createKVDType(kv));
}

void addFusionPasses(mlir::OpPassManager &pm) {
  pm.addPass(createHoistGather());
  pm.addPass(createMergeProjections());
  pm.addPass(createFuseAddNorm());
  pm.addPass(createFuseQKVRopeCache());
  pm.addPass(createFuseEpilogues());
}

} // namespace llmc
