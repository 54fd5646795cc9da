//===- config.cpp - fuzz config.json import in the compiler ---------------===//
//
// Any text as config.json: validated by parseHFConfig, and whatever it
// accepts imported as the decoder step, verified and taken through the CPU
// plan pipeline (fusion, kernel configuration, memory planning, the plan).
// Either a clean error naming the file, a pass failure with a diagnostic,
// or a plan; never a crash, an overflow or an allocation the size of a
// hostile field. Links the compiler's importer
// (the packaged LLVM/MLIR are not instrumented: coverage is llmc's code).
//
//===----------------------------------------------------------------------===//
#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Import/HFConfig.h"
#include "llmc/Import/HFImporter.h"
#include "llmc/Target/CPU/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/Error.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<llmc::ModelConfig> config =
      llmc::parseHFConfig(text, "config.json");
  if (!config) {
    std::string message = llvm::toString(config.takeError());
    // Every refusal names the file.
    if (message.find("config.json") == std::string::npos)
      std::abort();
    return 0;
  }
  // Import only what a small machine builds in a fuzzing time slice: the
  // limits themselves are tested by hf-errors.test and fuzz_config.py.
  if (config->layers > 4 || config->hidden > 1024 ||
      config->intermediate > 4096 || config->vocab > 65536 ||
      config->heads > 64)
    return 0;
  mlir::MLIRContext ctx;
  ctx.loadDialect<llmc::tfm::TransformerDialect, llmc::plan::PlanDialect,
                  mlir::func::FuncDialect>();
  ctx.disableMultithreading();
  llmc::ImportOptions options;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      llmc::importModel(ctx, *config, options);
  if (!module || mlir::failed(mlir::verify(*module)))
    std::abort();
  bool diagnosed = false;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    diagnosed |= d.getSeverity() == mlir::DiagnosticSeverity::Error;
    return mlir::success();
  });
  mlir::PassManager pm(&ctx);
  llmc::CPUPipelineOptions pipeline;
  llmc::buildCPUPlanPipeline(pm, pipeline);
  if (mlir::failed(pm.run(*module)) && !diagnosed)
    std::abort(); // a pass failed without saying why
  return 0;
}
