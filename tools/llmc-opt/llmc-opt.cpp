//===- llmc-opt.cpp - mlir-opt with the llmc dialects, passes, pipelines --===//
#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Target/CPU/Passes.h"
#include "llmc/Target/CPU/Pipelines.h"
#include "llmc/Target/CUDA/Passes.h"
#include "llmc/Target/CUDA/Pipelines.h"

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  llmc::registerLLMCConversionPasses();
  llmc::registerLLMCTransformerPasses();
  llmc::registerLLMCCPUPasses();
  llmc::registerCPUPipelines();
  llmc::registerLLMCCUDAPasses();
  llmc::registerCUDAPipelines();
  mlir::registerGPUPasses();

  mlir::DialectRegistry registry;
  registry.insert<llmc::tfm::TransformerDialect, llmc::plan::PlanDialect,
                  mlir::arith::ArithDialect, mlir::cf::ControlFlowDialect,
                  mlir::func::FuncDialect, mlir::LLVM::LLVMDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect,
                  mlir::gpu::GPUDialect, mlir::NVVM::NVVMDialect>();
  llmc::registerCUDADialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "llmc optimizer driver (tfm and plan dialects, llmc passes "
      "and pipelines)\n",
      registry));
}
