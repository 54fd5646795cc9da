//===- Report.h - the compile report (--report, --print-kernels) C++ -*-===//
#ifndef LLMC_DRIVER_REPORT_H
#define LLMC_DRIVER_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace llmc {

/// The model layer an op or launch belongs to: the importer locates every
/// layer's ops at `layer.N`.
std::optional<int64_t> layerOf(mlir::Location loc);

/// Describes the plan of `module` (after convert-tfm-to-plan): one entry
/// per launch with its kernel, layer, the unfused ops it stands for, its
/// kernel configuration as chosen and obeyed (the op's tfm.kernel_config),
/// its work items, and flops/bytes estimates for one decode token with one
/// key in context; then launches per step and per layer, distinct kernels,
/// arena, weight and KV sizes.
llvm::json::Object buildReport(mlir::ModuleOp module);

/// The report's launches as a table.
void printKernels(const llvm::json::Object &report, llvm::raw_ostream &os);

struct CUDABinary;
/// Adds what ptxas said of each CUDA kernel entry (registers, spills,
/// stack) to the report, under "ptxas".
void addPtxasInfo(llvm::json::Object &report, const CUDABinary &binary);

} // namespace llmc

#endif // LLMC_DRIVER_REPORT_H
