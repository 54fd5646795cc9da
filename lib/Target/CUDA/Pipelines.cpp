//===- Pipelines.cpp - the CUDA target's named pipeline -------------------===//
//
// Reads top to bottom like what llmc runs for --target=cuda; llmc-opt
// replays it as `--llmc-cuda-pipeline`.
//
//===----------------------------------------------------------------------===//
#include "llmc/Target/CUDA/Pipelines.h"

#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Target/CUDA/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/UBToLLVM/UBToLLVM.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace llmc {

void buildCUDAPlanPipeline(OpPassManager &pm,
                           const CUDAPipelineOptions &options) {
  if (options.fuse)
    addFusionPasses(pm);
  addPrecisionPasses(pm, options.quantize, options.weightDType,
                     options.kvDType);
  CUDAConfigureKernelsOptions configure;
  configure.threads = options.threads;
  pm.addPass(createCUDAConfigureKernels(configure));
  PlanMemoryOptions plan;
  plan.maxTokens = options.maxTokens;
  pm.addPass(createPlanMemory(plan));
  pm.addPass(createConvertTransformerToPlan());
}

void buildCUDAKernelPipeline(OpPassManager &pm, const CUDAPipelineOptions &) {
  pm.addPass(createCUDALowerKernels());
  pm.addPass(createCUDAOutlineKernels());
}

/// The PTX ISA version to ask of LLVM for `arch` (sm_90a needs 8.0).
static std::string ptxFeatures(llvm::StringRef arch) { return "+ptx80"; }

void buildCUDANVVMPipeline(OpPassManager &pm,
                           const CUDAPipelineOptions &options) {
  GpuNVVMAttachTargetOptions attach;
  attach.moduleMatcher = kCUDAKernelModule.str();
  attach.chip = options.arch;
  attach.features = ptxFeatures(options.arch);
  attach.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(attach));
  OpPassManager &dev = pm.nest<gpu::GPUModuleOp>();
  dev.addPass(createCanonicalizerPass());
  dev.addPass(createCSEPass());
  dev.addPass(createSCFToControlFlowPass());
  dev.addPass(memref::createExpandStridedMetadataPass());
  dev.addPass(createLowerAffinePass());
  dev.addPass(createArithToLLVMConversionPass());
  dev.addPass(createConvertIndexToLLVMPass());
  dev.addPass(createConvertGpuOpsToNVVMOps());
  dev.addPass(createCanonicalizerPass());
  dev.addPass(createCSEPass());
  dev.addPass(createReconcileUnrealizedCastsPass());
}

void buildCUDAPipeline(OpPassManager &pm, const CUDAPipelineOptions &options) {
  buildCUDAPlanPipeline(pm, options);
  buildCUDAKernelPipeline(pm, options);
  buildCUDANVVMPipeline(pm, options);
}

void registerCUDADialects(DialectRegistry &registry) {
  registry.insert<gpu::GPUDialect, NVVM::NVVMDialect, LLVM::LLVMDialect>();
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  arith::registerConvertArithToLLVMInterface(registry);
  cf::registerConvertControlFlowToLLVMInterface(registry);
  registerConvertFuncToLLVMInterface(registry);
  index::registerConvertIndexToLLVMInterface(registry);
  registerConvertMathToLLVMInterface(registry);
  registerConvertMemRefToLLVMInterface(registry);
  ub::registerConvertUBToLLVMInterface(registry);
}

void registerCUDAPipelines() {
  PassPipelineRegistration<CUDAPipelineOptions>(
      "llmc-cuda-pipeline",
      "What llmc runs for --target=cuda: fusion, CUDA kernel configuration, "
      "memory planning, kernels + plan, loops in a gpu.module, NVVM",
      buildCUDAPipeline);
}

} // namespace llmc
