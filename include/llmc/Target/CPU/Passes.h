//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//
#ifndef LLMC_TARGET_CPU_PASSES_H
#define LLMC_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"

namespace llmc {

#define GEN_PASS_DECL
#include "llmc/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "llmc/Target/CPU/Passes.h.inc"

} // namespace llmc

#endif // LLMC_TARGET_CPU_PASSES_H
