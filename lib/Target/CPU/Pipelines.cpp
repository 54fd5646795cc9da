//===- Pipelines.cpp - the CPU target's named pipeline --------------------===//
//
// Reads top to bottom like what llmc runs for --target=cpu; llmc-opt
// replays it as `--llmc-cpu-pipeline`.
//
//===----------------------------------------------------------------------===//
#include "llmc/Target/CPU/Pipelines.h"

#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Target/CPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace llmc {

void buildCPUPlanPipeline(OpPassManager &pm,
                          const CPUPipelineOptions &options) {
  if (options.fuse)
    addFusionPasses(pm);
  addPrecisionPasses(pm, options.quantize, options.weightDType,
                     options.kvDType);
  CPUConfigureKernelsOptions configure;
  configure.cpu = options.cpu;
  pm.addPass(createCPUConfigureKernels(configure));
  PlanMemoryOptions plan;
  plan.maxTokens = options.maxTokens;
  pm.addPass(createPlanMemory(plan));
  pm.addPass(createConvertTransformerToPlan());
}

void buildCPUKernelPipeline(OpPassManager &pm,
                            const CPUPipelineOptions &options) {
  CPULowerKernelsOptions lower;
  lower.cpu = options.cpu;
  pm.addPass(createCPULowerKernels(lower));
  pm.addPass(createCPUEmitKernelEntries());
  pm.addPass(createCPUApproximateMath());
}

void buildCPULLVMPipeline(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  buildCPUPlanPipeline(pm, options);
  buildCPUKernelPipeline(pm, options);
  buildCPULLVMPipeline(pm);
}

void registerCPUPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "llmc-cpu-pipeline",
      "What llmc runs for --target=cpu: fusion, CPU kernel configuration, "
      "memory planning, kernels + plan, loops, the LLVM dialect",
      buildCPUPipeline);
}

} // namespace llmc
