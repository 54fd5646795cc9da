//===- Report.h - the compile report (--report, --print-kernels) -*- C++
//-*-===//
#ifndef LLMC_DRIVER_REPORT_H
#define LLMC_DRIVER_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace llmc {

/// Describes the planned tfm step of `module` (after fusion and
/// tfm-plan-memory, before lowering): one entry per kernel (every op that
/// becomes a loop nest; weights and reshapes are views), kernels per layer
/// (from the importer's `layer.N` locations), launches per step, arena and
/// weight sizes, KV bytes per token. Per-kernel flops and bytes are
/// estimates for one decode token with one key in context.
llvm::json::Object buildReport(mlir::ModuleOp module);

/// The report's kernels as a table.
void printKernels(const llvm::json::Object &report, llvm::raw_ostream &os);

} // namespace llmc

#endif // LLMC_DRIVER_REPORT_H
