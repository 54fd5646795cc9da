//===- ArtifactWriter.h - a plan module -> an artifact -------*- C++ -*-===//
#ifndef LLMC_DRIVER_ARTIFACTWRITER_H
#define LLMC_DRIVER_ARTIFACTWRITER_H

#include "schema/Artifact.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace llmc {

/// The manifest of `module` after convert-tfm-to-plan (or later stages,
/// which keep the plan): the plan, weights, KV caches and arena of its
/// plan.program, the model facts of tfm.model. Program file, fingerprint,
/// limits and tokenizer files are the writer's to fill.
llvm::Expected<schema::Manifest> manifestFromPlan(mlir::ModuleOp module);

struct ArtifactOptions {
  std::string outputDir;
  /// A Hugging Face model directory to copy tokenizer and config files
  /// from; empty for a .mlir input.
  std::string modelDir;
  std::string cpu;
  std::string arch; // cuda
  int64_t maxSeqLen = 0;
  /// Parallel builds: the degrees (the module has one plan.program per
  /// rank).
  int64_t tp = 1, pp = 1;
};

struct CUDABinary;

/// Writes the artifact of `module`, lowered by llmc-cpu-pipeline to the
/// LLVM dialect: libkernels.so, manifest.json (schema/ArtifactJson.h) and
/// the model directory's tokenizer files.
llvm::Error writeCPUArtifact(mlir::ModuleOp module,
                             const ArtifactOptions &options);

/// Writes the artifact of `module`, lowered by llmc-cuda-pipeline (the
/// kernels in a gpu.module in the NVVM dialect): kernels.ptx,
/// kernels.<arch>.cubin when ptxas is found, manifest.json and the model's
/// files. `binary`, when given, receives what was compiled (ptxas's
/// register and spill counts).
llvm::Error writeCUDAArtifact(mlir::ModuleOp module,
                              const ArtifactOptions &options,
                              CUDABinary *binary = nullptr);

} // namespace llmc

#endif // LLMC_DRIVER_ARTIFACTWRITER_H
