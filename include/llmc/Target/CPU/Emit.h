//===- Emit.h - LLVM dialect kernels -> a shared library ----*- C++ -*-===//
#ifndef LLMC_TARGET_CPU_EMIT_H
#define LLMC_TARGET_CPU_EMIT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace llmc {

/// Translates `module` (kernels in the LLVM dialect, after
/// llmc-cpu-pipeline; everything not LLVM, like plan.program, must be gone)
/// to LLVM IR, optimizes it at `optLevel` for `cpu`, and links a shared
/// library at `soPath` that also exports `digest` (when not empty) as the
/// NUL-terminated string schema::kLibraryDigestSymbol.
llvm::Error compileKernelLibrary(mlir::ModuleOp module, llvm::StringRef soPath,
                                 llvm::StringRef cpu, unsigned optLevel = 3,
                                 llvm::StringRef digest = {});

} // namespace llmc

#endif // LLMC_TARGET_CPU_EMIT_H
