//===- Compile.cpp - import -> the target's pipeline -> artifact ---------===//
#include "llmc/Driver/Compile.h"

#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Driver/ArtifactWriter.h"
#include "llmc/Driver/Report.h"
#include "llmc/Import/HFImporter.h"
#include "llmc/Target/CPU/Pipelines.h"
#include "llmc/Target/CUDA/Emit.h"
#include "llmc/Target/CUDA/Pipelines.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using llvm::Error;

namespace llmc {

char InputError::ID;

namespace {

Error inputError(const llvm::Twine &msg) {
  return llvm::make_error<InputError>(msg.str());
}

/// Builds the compile report when the plan is made (the kernels still hold
/// their tfm ops and configurations then).
class ReportHook : public PassInstrumentation {
public:
  explicit ReportHook(std::optional<llvm::json::Object> &report)
      : report(report) {}
  void runAfterPass(Pass *pass, Operation *op) override {
    if (pass->getArgument() == "convert-tfm-to-plan")
      report = buildReport(cast<ModuleOp>(op));
  }

private:
  std::optional<llvm::json::Object> &report;
};

/// The longest sequence by default: the model's positions, times the
/// factor of a dynamic-NTK rope (it exists to run past them).
int64_t defaultMaxSeqLen(ModuleOp module) {
  tfm::ModelAttr model =
      tfm::dialect(module.getContext()).getModelAttrHelper().getAttr(module);
  int64_t positions = model ? model.getMaxPositionEmbeddings() : 0;
  if (!positions)
    return 2048;
  double extension = 1.0;
  module->walk([&](tfm::RoPEOp r) {
    if (r.getRope().isDynamic())
      extension = std::max(extension, r.getRope().getFactorValue());
  });
  return static_cast<int64_t>(positions * extension);
}

} // namespace

Error compile(const CompileOptions &opts) {
  if (opts.target != "cpu" && opts.target != "cuda")
    return inputError("--target=" + opts.target +
                      ": unsupported target (cpu or cuda)");
  bool cuda = opts.target == "cuda";
  if (cuda && !llvm::StringRef(opts.arch).starts_with("sm_"))
    return inputError("--arch=" + opts.arch +
                      ": expected a GPU architecture like sm_90a or sm_80");
  if (opts.maxBatchTokens <= 0 || opts.kvBlockSize < 0 || opts.maxSeqLen < 0)
    return inputError("--max-batch-tokens, --kv-block-size and --max-seq-len "
                      "must be positive");
  if (opts.emit == EmitKind::Artifact && opts.output.empty())
    return inputError("-o OUT.llmc is required");

  DialectRegistry registry;
  if (cuda)
    registerCUDADialects(registry);
  MLIRContext ctx(registry);
  ctx.loadDialect<tfm::TransformerDialect, plan::PlanDialect,
                  func::FuncDialect>();
  OwningOpRef<ModuleOp> module;
  bool fromDir = llvm::sys::fs::is_directory(opts.input);
  if (fromDir) {
    llvm::Expected<ModelConfig> cfg = readHFConfig(opts.input);
    if (!cfg)
      return inputError(llvm::toString(cfg.takeError()));
    ImportOptions io;
    io.kvBlockSize = opts.kvBlockSize ? opts.kvBlockSize : 16;
    module = importModel(ctx, *cfg, io);
  } else {
    if (!llvm::sys::fs::exists(opts.input))
      return inputError(opts.input + ": no such file or directory");
    llvm::SourceMgr sm;
    auto buf = llvm::MemoryBuffer::getFile(opts.input);
    if (!buf)
      return inputError(opts.input +
                        ": cannot read: " + buf.getError().message());
    sm.AddNewSourceBuffer(std::move(*buf), llvm::SMLoc());
    module = parseSourceFile<ModuleOp>(sm, &ctx);
    if (!module)
      return inputError(opts.input + ": not a valid tfm module (see above)");
  }
  if (failed(verify(*module)))
    return inputError(opts.input + ": the step function does not verify");
  FailureOr<tfm::StepSignature> step = tfm::StepSignature::find(*module);
  if (failed(step))
    return inputError(opts.input + ": no step function to compile (see above)");

  auto writeModule = [&]() -> Error {
    std::string err;
    auto out = openOutputFile(opts.output.empty() ? "-" : opts.output, &err);
    if (!out)
      return inputError(err);
    module->print(out->os());
    out->os() << "\n";
    out->keep();
    return Error::success();
  };
  if (opts.emit == EmitKind::MLIR)
    return writeModule();

  int64_t maxSeqLen =
      opts.maxSeqLen ? opts.maxSeqLen : defaultMaxSeqLen(*module);
  tfm::ModelAttr model =
      tfm::dialect(&ctx).getModelAttrHelper().getAttr(*module);
  if (model && model.getArchitecture() == "GPT2LMHeadModel" &&
      maxSeqLen > model.getMaxPositionEmbeddings())
    return inputError(llvm::formatv("--max-seq-len {0} exceeds the model's "
                                    "{1} learned positions",
                                    maxSeqLen,
                                    model.getMaxPositionEmbeddings()));
  int64_t blockSize = step->getCacheType(0).getDimSize(1);
  if (opts.kvBlockSize && blockSize != opts.kvBlockSize)
    return inputError(llvm::formatv("{0}: the KV caches have blocks of {1} "
                                    "tokens but --kv-block-size is {2}",
                                    opts.input, blockSize, opts.kvBlockSize));

  // One pass manager runs the target's named pipeline, as far as --emit
  // asks; llmc-opt --llmc-cpu-pipeline replays the same passes.
  PassManager pm(&ctx);
  if (opts.printIRAfterAll || !opts.printIRAfter.empty()) {
    ctx.disableMultithreading();
    std::vector<std::string> only = opts.printIRAfter;
    bool all = opts.printIRAfterAll;
    pm.enableIRPrinting(
        [](Pass *, Operation *) { return false; },
        [only, all](Pass *pass, Operation *) {
          return all || llvm::is_contained(only, pass->getArgument().str());
        },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  if (opts.timing)
    pm.enableTiming();
  std::optional<llvm::json::Object> report;
  if (!opts.reportPath.empty() || opts.printKernels)
    pm.addInstrumentation(std::make_unique<ReportHook>(report));
  if (cuda) {
    CUDAPipelineOptions pipeline;
    pipeline.fuse = opts.fuse;
    pipeline.arch = opts.arch;
    pipeline.maxTokens = opts.maxBatchTokens;
    pipeline.threads = opts.cudaThreads;
    buildCUDAPlanPipeline(pm, pipeline);
    if (opts.emit != EmitKind::Plan) {
      buildCUDAKernelPipeline(pm, pipeline);
      if (opts.emit != EmitKind::Loops)
        buildCUDANVVMPipeline(pm, pipeline);
    }
  } else {
    CPUPipelineOptions pipeline;
    pipeline.fuse = opts.fuse;
    pipeline.cpu = opts.cpu;
    pipeline.maxTokens = opts.maxBatchTokens;
    buildCPUPlanPipeline(pm, pipeline);
    if (opts.emit != EmitKind::Plan) {
      buildCPUKernelPipeline(pm, pipeline);
      if (opts.emit != EmitKind::Loops)
        buildCPULLVMPipeline(pm);
    }
  }
  if (failed(pm.run(*module)))
    return inputError(opts.input + ": compiling the step failed (see above)");

  auto writeReport = [&]() -> Error {
    if (!report)
      return Error::success();
    if (opts.printKernels)
      printKernels(*report, llvm::outs());
    if (!opts.reportPath.empty()) {
      std::error_code ec;
      llvm::raw_fd_ostream os(opts.reportPath, ec);
      if (ec)
        return inputError(opts.reportPath + ": cannot write: " + ec.message());
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(*report)))
         << "\n";
    }
    return Error::success();
  };
  if (opts.emit != EmitKind::Artifact) {
    if (Error e = writeReport())
      return e;
    return writeModule();
  }

  ArtifactOptions artifact;
  artifact.outputDir = opts.output;
  artifact.modelDir = fromDir ? opts.input : "";
  artifact.cpu = opts.cpu;
  artifact.arch = opts.arch;
  artifact.maxSeqLen = maxSeqLen;
  if (!cuda) {
    if (Error e = writeReport())
      return e;
    return writeCPUArtifact(*module, artifact);
  }
  CUDABinary binary;
  if (Error e = writeCUDAArtifact(*module, artifact, &binary))
    return e;
  if (report)
    addPtxasInfo(*report, binary);
  return writeReport();
}

} // namespace llmc
