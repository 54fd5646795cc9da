//===- Pipelines.h - the CPU target's named pipeline ------------*- C++ -*-===//
#ifndef LLMC_TARGET_CPU_PIPELINES_H
#define LLMC_TARGET_CPU_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace llmc {

struct CPUPipelineOptions
    : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<bool> fuse{*this, "fuse", llvm::cl::desc("run the fusion passes"),
                    llvm::cl::init(true)};
  Option<std::string> cpu{*this, "cpu",
                          llvm::cl::desc("the LLVM CPU name (native: the "
                                         "compiling host)"),
                          llvm::cl::init("x86-64-v2")};
  Option<int64_t> maxTokens{*this, "max-tokens",
                            llvm::cl::desc("the most tokens one step holds"),
                            llvm::cl::init(256)};
  Option<std::string> weightDType{
      *this, "weight-dtype",
      llvm::cl::desc("matrix weights stored as f32, bf16, f16 or auto (the "
                     "checkpoint's)"),
      llvm::cl::init("auto")};
  Option<std::string> kvDType{
      *this, "kv-dtype", llvm::cl::desc("KV caches stored as f32, f16 or bf16"),
      llvm::cl::init("f32")};
  Option<std::string> quantize{
      *this, "quantize",
      llvm::cl::desc("projection weights quantized: none or int8"),
      llvm::cl::init("none")};
};

/// Target-neutral rewrites, the CPU kernel configuration, memory planning
/// and the plan: a tfm step -> kernels + plan.program.
void buildCPUPlanPipeline(mlir::OpPassManager &pm,
                          const CPUPipelineOptions &options);
/// The kernels to loops, with the runtime's entry points.
void buildCPUKernelPipeline(mlir::OpPassManager &pm,
                            const CPUPipelineOptions &options);
/// Loops over memrefs to the LLVM dialect.
void buildCPULLVMPipeline(mlir::OpPassManager &pm);
/// All three: what llmc runs for --target=cpu, registered as
/// `llmc-cpu-pipeline`.
void buildCPUPipeline(mlir::OpPassManager &pm,
                      const CPUPipelineOptions &options);

/// Registers `llmc-cpu-pipeline` with llmc-opt.
void registerCPUPipelines();

} // namespace llmc

#endif // LLMC_TARGET_CPU_PIPELINES_H
