//===- Passes.td - CUDA target passes ----------------------*- tablegen -*-===//
#ifndef LLMC_TARGET_CUDA_PASSES_TD
#define LLMC_TARGET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def CUDAConfigureKernels : Pass<"llmc-cuda-configure-kernels", "mlir::ModuleOp"> {
  let summary = "Choose how the GPU runs every kernel op";
  let description = [{
    Sets `tfm.kernel_config = #tfm.cuda_kernel<...>` on every kernel op:
    the parallel dimension the grid covers, the strategy and the threads
    per block. The first strategy is `thread_per_item`: one thread per work
    item (a row of a norm, an output channel of a linear, a head of
    attention), `threads` threads per block, scalar and unblocked. It is
    correct for every kernel the CPU has and the baseline the tuned
    strategies (warp reductions, cuBLASLt, flash attention) replace kernel
    family by kernel family. An op that has a configuration already
    (written by hand) keeps it.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "threads per block">
  ];
}

def CUDALowerKernels : Pass<"llmc-cuda-lower-kernels", "mlir::ModuleOp"> {
  let summary = "Lower every kernel function to loops for the GPU";
  let description = [{
    Applies every op family's lowering patterns
    (lib/Conversion/TransformerToLoops) with the CUDA TargetInfo: a kernel
    invocation is one GPU thread, and its work item is
    `blockIdx.x * blockDim.x + threadIdx.x` (nothing when that is past the
    kernel's extent).
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::gpu::GPUDialect",
    "mlir::math::MathDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect"
  ];
}

def CUDAOutlineKernels : Pass<"llmc-cuda-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Move the kernels into a gpu.module as launchable entries";
  let description = [{
    Copies the memref globals the lowered kernels read into
    `gpu.module @llmc_kernels`, and makes every kernel `K` the launchable

        gpu.func @llmc_kernel_K(%b0: !llvm.ptr, ..., %s0: i64, ...) kernel

    taking one device pointer per buffer argument, then the sizes of the
    buffers' dynamic dimensions, buffer after buffer (the same order as the
    CPU's `sizes` array). It builds each argument's memref descriptor
    (dense, row-major) and continues with `K`'s body. `plan.launch` then
    names the entry, `@llmc_kernels::@llmc_kernel_K`.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect", "mlir::gpu::GPUDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect"];
}

#endif // LLMC_TARGET_CUDA_PASSES_TD
