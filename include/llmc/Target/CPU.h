//===- CPU.h - lowered step -> native shared library ------------*- C++ -*-===//
#ifndef LLMC_TARGET_CPU_H
#define LLMC_TARGET_CPU_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>

namespace llmc {

struct CPUOptions {
  /// Applied to the pass manager of the LLVM lowering (IR printing, timing).
  std::function<void(mlir::PassManager &)> instrument;
  /// LLVM CPU name; "native" is the compiling host, "x86-64" the baseline.
  std::string cpu = "x86-64-v2";
  unsigned optLevel = 3;
};

/// Vector registers of `cpu` ("native" or an LLVM x86 CPU name): 32 with
/// AVX-512, else 16. Unknown names count as 16 (the compile reports them).
int64_t vectorRegisters(llvm::StringRef cpu);

/// The standard lowering after convert-tfm-to-loops: memref/scf/arith/math
/// to the LLVM dialect.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm);

/// Lowers `module` (the output of convert-tfm-to-loops) to LLVM IR, compiles
/// it for `options.cpu`, and links a shared library at `soPath`.
llvm::Error compileToSharedLibrary(mlir::ModuleOp module,
                                   llvm::StringRef soPath,
                                   const CPUOptions &options);

} // namespace llmc

#endif // LLMC_TARGET_CPU_H
