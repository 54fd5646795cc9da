//===- HFImporter.h - config -> tfm decoder-step graph ----------*- C++ -*-===//
#ifndef LLMC_IMPORT_HFIMPORTER_H
#define LLMC_IMPORT_HFIMPORTER_H

#include "llmc/Import/HFConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llmc {

struct ImportOptions {
  int64_t kvBlockSize = 16;
};

/// Builds the module holding the model's decoder step (`func.func @step`,
/// marked `tfm.step`) as tfm ops, each weight with its recipe, and the model
/// facts as `tfm.model`.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &ctx,
                                              const ModelConfig &config,
                                              const ImportOptions &options);

} // namespace llmc

#endif // LLMC_IMPORT_HFIMPORTER_H
