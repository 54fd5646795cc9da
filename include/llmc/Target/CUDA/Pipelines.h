//===- Pipelines.h - the CUDA target's named pipeline -----------*- C++ -*-===//
#ifndef LLMC_TARGET_CUDA_PIPELINES_H
#define LLMC_TARGET_CUDA_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace llmc {

struct CUDAPipelineOptions
    : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
  Option<bool> fuse{*this, "fuse", llvm::cl::desc("run the fusion passes"),
                    llvm::cl::init(true)};
  Option<std::string> arch{*this, "arch",
                           llvm::cl::desc("the GPU architecture (sm_90a, "
                                          "sm_80, ...)"),
                           llvm::cl::init("sm_90a")};
  Option<int64_t> maxTokens{*this, "max-tokens",
                            llvm::cl::desc("the most tokens one step holds"),
                            llvm::cl::init(256)};
  Option<int64_t> threads{*this, "threads", llvm::cl::desc("threads per block"),
                          llvm::cl::init(128)};
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

/// Target-neutral rewrites, the CUDA kernel configuration, memory planning
/// and the plan.
void buildCUDAPlanPipeline(mlir::OpPassManager &pm,
                           const CUDAPipelineOptions &options);
/// The kernels to loops, outlined into a gpu.module with their entries.
void buildCUDAKernelPipeline(mlir::OpPassManager &pm,
                             const CUDAPipelineOptions &options);
/// The gpu.module to the NVVM dialect for `arch`.
void buildCUDANVVMPipeline(mlir::OpPassManager &pm,
                           const CUDAPipelineOptions &options);
/// All three: what llmc runs for --target=cuda, registered as
/// `llmc-cuda-pipeline`.
void buildCUDAPipeline(mlir::OpPassManager &pm,
                       const CUDAPipelineOptions &options);

void registerCUDAPipelines();

/// What a context needs for the CUDA pipeline: the GPU and NVVM dialects,
/// the NVVM target, and the dialects' conversions to LLVM that
/// convert-gpu-to-nvvm applies inside the gpu.module.
void registerCUDADialects(mlir::DialectRegistry &registry);

} // namespace llmc

#endif // LLMC_TARGET_CUDA_PIPELINES_H
