//===- Compile.cpp - import -> the target's pipeline -> artifact ---------===//
#include "llmc/Driver/Compile.h"

#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Driver/ArtifactWriter.h"
#include "llmc/Driver/Report.h"
#include "llmc/Import/HFImporter.h"
#include "llmc/Target/CPU/Pipelines.h"
#include "llmc/Target/CUDA/Emit.h"
#include "llmc/Target/CUDA/Pipelines.h"

#include "mlir/IR/SymbolTable.h"
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

constexpr int64_t kMaxSeqLen = int64_t(1) << 24;
constexpr int64_t kMaxBatchTokens = int64_t(1) << 20;

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
  double n = static_cast<double>(positions) * extension;
  return n > 1e15 ? int64_t(1e15) : static_cast<int64_t>(n);
}

/// Moves rank `r`'s program and kernels into `into`: a kernel identical to
/// one `into` has (same body and types) is shared, others are renamed when
/// their name is taken.
void mergeRankModule(ModuleOp into, ModuleOp from, int64_t r) {
  auto kernelAttr = plan::dialect(into.getContext()).getKernelAttrHelper();
  auto textOf = [](func::FuncOp f) {
    std::string name = f.getSymName().str(), text;
    f.setSymName("k");
    llvm::raw_string_ostream os(text);
    f->print(os, OpPrintingFlags().useLocalScope());
    f.setSymName(name);
    return text;
  };
  llvm::StringMap<std::string> byText;
  SymbolTable symbols(into);
  for (auto f : into.getOps<func::FuncOp>())
    if (kernelAttr.isAttrPresent(f))
      byText[textOf(f)] = f.getSymName().str();
  llvm::StringMap<std::string> renamed;
  for (auto f : llvm::make_early_inc_range(from.getOps<func::FuncOp>())) {
    if (!kernelAttr.isAttrPresent(f))
      continue;
    std::string text = textOf(f);
    std::string old = f.getSymName().str();
    auto it = byText.find(text);
    if (it != byText.end()) {
      renamed[old] = it->second;
      f.erase();
      continue;
    }
    std::string name = old;
    for (int n = 0; symbols.lookup(name); ++n)
      name = llvm::formatv("{0}_r{1}{2}", old, r,
                           n ? "_" + std::to_string(n) : std::string())
                 .str();
    f.setSymName(name);
    renamed[old] = name;
    byText[text] = name;
    f->moveBefore(into.getBody(), into.getBody()->end());
    symbols.insert(f);
  }
  for (auto program :
       llvm::make_early_inc_range(from.getOps<plan::ProgramOp>())) {
    program.walk([&](plan::LaunchOp l) {
      l.setKernelAttr(FlatSymbolRefAttr::get(
          into.getContext(),
          renamed.lookup(l.getKernel().getLeafReference().getValue())));
    });
    program->moveBefore(into.getBody(), into.getBody()->end());
  }
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
  // Positions and token counts are 32-bit in the step's inputs; these
  // limits keep every size derived from them far from overflow.
  if (opts.maxBatchTokens > kMaxBatchTokens || opts.kvBlockSize > 4096 ||
      opts.maxSeqLen > kMaxSeqLen)
    return inputError(llvm::formatv(
        "--max-batch-tokens {0}, --kv-block-size {1}, --max-seq-len {2}: "
        "llmc's limits are {3}, 4096 and {4}",
        opts.maxBatchTokens, opts.kvBlockSize, opts.maxSeqLen, kMaxBatchTokens,
        kMaxSeqLen));
  if (!llvm::is_contained({"auto", "f32", "bf16", "f16"}, opts.weightDType))
    return inputError("--weight-dtype " + opts.weightDType +
                      ": expected auto, f32, bf16 or f16");
  if (!llvm::is_contained({"none", "int8"}, opts.quantize))
    return inputError("--quantize " + opts.quantize +
                      ": expected none or int8");
  if (!llvm::is_contained({"f32", "f16", "bf16"}, opts.kvDType))
    return inputError("--kv-dtype " + opts.kvDType +
                      ": expected f32, f16 or bf16");
  if (opts.tp > 1024 || opts.pp > 1024)
    return inputError(llvm::formatv("--tp {0} --pp {1}: at most 1024 each",
                                    opts.tp, opts.pp));
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
  if (opts.emit == EmitKind::MLIR && opts.tp * opts.pp > 1)
    return inputError(llvm::formatv(
        "--emit=mlir prints the imported step, before it is split over "
        "--tp {0} --pp {1}: use --emit=plan for every rank's plan, or llmc-opt "
        "-tfm-partition-pipeline=\"pp={1} stage=S\" "
        "-tfm-shard-tensor-parallel=\"tp={0} rank=R\" for one rank's step",
        opts.tp, opts.pp));
  if (opts.emit == EmitKind::MLIR)
    return writeModule();

  int64_t maxSeqLen =
      opts.maxSeqLen ? opts.maxSeqLen : defaultMaxSeqLen(*module);
  if (maxSeqLen > kMaxSeqLen)
    return inputError(llvm::formatv(
        "{0}: the model's positions (times its rope factor) give sequences "
        "of {1} tokens, past llmc's limit of {2}; set --max-seq-len",
        opts.input, maxSeqLen, kMaxSeqLen));
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

  if (opts.tp < 1 || opts.pp < 1)
    return inputError(llvm::formatv("--tp {0} --pp {1}: both must be at least "
                                    "1",
                                    opts.tp, opts.pp));
  int64_t world = opts.tp * opts.pp;
  if (tfm::ModelAttr m =
          tfm::dialect(&ctx).getModelAttrHelper().getAttr(*module);
      m && m.getNumLayers() > 0 && opts.pp > m.getNumLayers())
    return inputError(llvm::formatv(
        "--pp {0} exceeds the model's {1} layer{2}: every pipeline stage "
        "needs at least one",
        opts.pp, m.getNumLayers(), m.getNumLayers() == 1 ? "" : "s"));

  // Pass managers run the target's named pipelines, as far as --emit asks;
  // llmc-opt --llmc-cpu-pipeline replays the same passes.
  std::optional<llvm::json::Object> report;
  auto configure = [&](PassManager &pm, bool withReport) {
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
    if (withReport && (!opts.reportPath.empty() || opts.printKernels))
      pm.addInstrumentation(std::make_unique<ReportHook>(report));
  };
  CUDAPipelineOptions cudaPipeline;
  cudaPipeline.fuse = opts.fuse;
  cudaPipeline.weightDType = opts.weightDType;
  cudaPipeline.kvDType = opts.kvDType;
  cudaPipeline.quantize = opts.quantize;
  cudaPipeline.arch = opts.arch;
  cudaPipeline.maxTokens = opts.maxBatchTokens;
  cudaPipeline.threads = opts.cudaThreads;
  CPUPipelineOptions cpuPipeline;
  cpuPipeline.fuse = opts.fuse;
  cpuPipeline.weightDType = opts.weightDType;
  cpuPipeline.kvDType = opts.kvDType;
  cpuPipeline.quantize = opts.quantize;
  cpuPipeline.cpu = opts.cpu;
  cpuPipeline.maxTokens = opts.maxBatchTokens;
  auto addPlan = [&](PassManager &pm) {
    if (cuda)
      buildCUDAPlanPipeline(pm, cudaPipeline);
    else
      buildCPUPlanPipeline(pm, cpuPipeline);
  };
  auto addLowering = [&](PassManager &pm) {
    if (cuda) {
      buildCUDAKernelPipeline(pm, cudaPipeline);
      if (opts.emit != EmitKind::Loops)
        buildCUDANVVMPipeline(pm, cudaPipeline);
    } else {
      buildCPUKernelPipeline(pm, cpuPipeline);
      if (opts.emit != EmitKind::Loops)
        buildCPULLVMPipeline(pm);
    }
  };
  auto stepFailed = [&]() {
    return inputError(opts.input + ": compiling the step failed (see above)");
  };

  if (world == 1) {
    PassManager pm(&ctx);
    configure(pm, /*withReport=*/true);
    addPlan(pm);
    if (opts.emit != EmitKind::Plan)
      addLowering(pm);
    if (failed(pm.run(*module)))
      return stepFailed();
  } else {
    // One plan per rank, from its own copy of the step; then one module
    // with every rank's program and the kernels they share.
    OwningOpRef<ModuleOp> merged;
    for (int64_t r = 0; r < world; ++r) {
      OwningOpRef<ModuleOp> rank = module->clone();
      FailureOr<tfm::StepSignature> s = tfm::StepSignature::find(*rank);
      s->getFunc().setSymName(("rank_" + llvm::Twine(r)).str());
      PassManager pm(&ctx);
      configure(pm, /*withReport=*/r == 0);
      // Rank r is stage r / tp's tensor-parallel rank r % tp.
      PartitionPipelineOptions partition;
      partition.pp = opts.pp;
      partition.stage = r / opts.tp;
      pm.addPass(createPartitionPipeline(partition));
      ShardTensorParallelOptions shard;
      shard.tp = opts.tp;
      shard.rank = r % opts.tp;
      pm.addPass(createShardTensorParallel(shard));
      addPlan(pm);
      if (failed(pm.run(*rank)))
        return inputError(
            llvm::formatv("{0}: compiling rank {1} (pipeline stage {2}, "
                          "tensor-parallel rank {3}) of --tp {4} --pp {5} "
                          "failed (see above)",
                          opts.input, r, r / opts.tp, r % opts.tp, opts.tp,
                          opts.pp)
                .str());
      if (!merged)
        merged = std::move(rank);
      else
        mergeRankModule(*merged, *rank, r);
    }
    module = std::move(merged);
    if (opts.emit != EmitKind::Plan) {
      PassManager pm(&ctx);
      configure(pm, /*withReport=*/false);
      addLowering(pm);
      if (failed(pm.run(*module)))
        return stepFailed();
    }
  }

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
  artifact.tp = opts.tp;
  artifact.pp = opts.pp;
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
