//===- Passes.h - CUDA target passes ----------------------------*- C++ -*-===//
#ifndef LLMC_TARGET_CUDA_PASSES_H
#define LLMC_TARGET_CUDA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace llmc {

#define GEN_PASS_DECL
#include "llmc/Target/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "llmc/Target/CUDA/Passes.h.inc"

/// The gpu.module the CUDA target's kernels live in.
inline constexpr llvm::StringLiteral kCUDAKernelModule = "llmc_kernels";

} // namespace llmc

#endif // LLMC_TARGET_CUDA_PASSES_H
