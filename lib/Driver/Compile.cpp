//===- Compile.cpp - import -> lower -> artifact --------------------------===//
#include "llmc/Driver/Compile.h"

#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Driver/Report.h"
#include "llmc/Import/HFImporter.h"
#include "llmc/Target/CPU.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using llvm::Error;

namespace llmc {

char InputError::ID;

namespace {

constexpr int kFormatVersion = 1;
constexpr int kAbiVersion = 2;

Error inputError(const llvm::Twine &msg) {
  return llvm::make_error<InputError>(msg.str());
}
Error internalError(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// FNV-1a over the file: the loader's corruption check.
std::string fingerprint(llvm::StringRef data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::string out;
  llvm::raw_string_ostream(out) << llvm::format_hex_no_prefix(h, 16);
  return out;
}

llvm::json::Value toJSON(Attribute attr) {
  if (auto s = dyn_cast<StringAttr>(attr))
    return s.getValue().str();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return i.getInt();
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto a = dyn_cast<ArrayAttr>(attr)) {
    llvm::json::Array out;
    for (Attribute e : a)
      out.push_back(toJSON(e));
    return out;
  }
  if (auto d = dyn_cast<DictionaryAttr>(attr)) {
    llvm::json::Object out;
    for (NamedAttribute n : d)
      out[n.getName().getValue()] = toJSON(n.getValue());
    return out;
  }
  return nullptr;
}

int64_t intField(DictionaryAttr d, llvm::StringRef name, int64_t dflt = 0) {
  if (!d)
    return dflt;
  if (auto i = d.getAs<IntegerAttr>(name))
    return i.getInt();
  return dflt;
}

Error writeFile(llvm::StringRef path, llvm::StringRef data) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return inputError(path + ": cannot write: " + ec.message());
  os << data;
  return Error::success();
}

} // namespace

Error compile(const CompileOptions &opts) {
  if (opts.target != "cpu")
    return inputError("--target=" + opts.target +
                      ": unsupported target (this build supports: cpu)");
  if (opts.maxBatchTokens <= 0 || opts.kvBlockSize < 0 || opts.maxSeqLen < 0)
    return inputError("--max-batch-tokens, --kv-block-size and --max-seq-len "
                      "must be positive");

  MLIRContext ctx;
  ctx.loadDialect<tfm::TransformerDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module;
  std::string configText;
  bool fromDir = llvm::sys::fs::is_directory(opts.input);
  if (fromDir) {
    llvm::Expected<ModelConfig> cfg = readHFConfig(opts.input);
    if (!cfg)
      return inputError(llvm::toString(cfg.takeError()));
    ImportOptions io;
    io.kvBlockSize = opts.kvBlockSize ? opts.kvBlockSize : 16;
    module = importModel(ctx, *cfg, io);
    llvm::SmallString<256> p(opts.input);
    llvm::sys::path::append(p, "config.json");
    if (auto buf = llvm::MemoryBuffer::getFile(p))
      configText = (*buf)->getBuffer().str();
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

  auto writeModule = [&]() -> Error {
    std::string err;
    auto out = openOutputFile(opts.output.empty() ? "-" : opts.output, &err);
    if (!out)
      return inputError(err);
    module->print(out->os());
    out->keep();
    return Error::success();
  };
  if (opts.emit == EmitKind::MLIR)
    return writeModule();

  DictionaryAttr model = (*module)->getAttrOfType<DictionaryAttr>("llmc.model");
  int64_t maxPositions = intField(model, "max_position_embeddings", 0);
  // Dynamic NTK scaling exists to run past the trained context: by default
  // allow factor times the positions it was trained for.
  double ropeExtension = 1.0;
  module->walk([&](tfm::RoPEOp r) {
    if (r.getScaling() == tfm::RopeScaling::Dynamic)
      ropeExtension = std::max(ropeExtension, r.getFactor()->convertToDouble());
  });
  int64_t maxSeqLen = opts.maxSeqLen ? opts.maxSeqLen
                      : maxPositions
                          ? static_cast<int64_t>(maxPositions * ropeExtension)
                          : 2048;
  bool learnedPositions =
      model && model.getAs<StringAttr>("architecture") &&
      model.getAs<StringAttr>("architecture").getValue() == "GPT2LMHeadModel";
  if (learnedPositions && maxPositions && maxSeqLen > maxPositions)
    return inputError(llvm::formatv("--max-seq-len {0} exceeds the model's "
                                    "{1} learned positions",
                                    maxSeqLen, maxPositions));

  // The KV layout, from the step signature: K and V caches per layer after
  // the six batch operands.
  int64_t numCaches = 0, kvHeads = 0, headDim = 0, blockSize = 0;
  if (auto step = module->lookupSymbol<func::FuncOp>("step")) {
    FunctionType fty = step.getFunctionType();
    numCaches = fty.getNumInputs() > 6 ? fty.getNumInputs() - 6 : 0;
    if (numCaches) {
      auto cache = dyn_cast<RankedTensorType>(fty.getInput(6));
      if (cache && cache.getRank() == 4) {
        blockSize = cache.getDimSize(1);
        if (opts.kvBlockSize && blockSize != opts.kvBlockSize)
          return inputError(
              llvm::formatv("{0}: the KV caches have blocks of {1} tokens but "
                            "--kv-block-size is {2}",
                            opts.input, blockSize, opts.kvBlockSize));
        kvHeads = cache.getDimSize(2);
        headDim = cache.getDimSize(3);
      }
    }
  }

  // --print-ir-after-all / --print-ir-after=PASS / --mlir-timing, for every
  // pass manager of the flow.
  auto instrument = [&](PassManager &pm) {
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
  };

  PassManager pm(&ctx);
  instrument(pm);
  if (opts.fuse) {
    pm.addPass(createHoistGather());
    pm.addPass(createMergeProjections());
    pm.addPass(createFuseAddNorm());
    pm.addPass(createFuseQKVRopeCache());
    pm.addPass(createFuseEpilogues());
  }
  ChooseSchedulesOptions sched;
  sched.vectorRegisters = vectorRegisters(opts.cpu);
  pm.addPass(createChooseSchedules(sched));
  PlanMemoryOptions plan;
  plan.maxTokens = opts.maxBatchTokens;
  pm.addPass(createPlanMemory(plan));
  if (failed(pm.run(*module)))
    return inputError(opts.input + ": optimizing the step function failed");

  if (!opts.reportPath.empty() || opts.printKernels) {
    llvm::json::Object report = buildReport(*module);
    if (opts.printKernels)
      printKernels(report, llvm::outs());
    if (!opts.reportPath.empty()) {
      std::string text;
      llvm::raw_string_ostream os(text);
      os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report)))
         << "\n";
      if (Error e = writeFile(opts.reportPath, text))
        return e;
    }
  }

  PassManager lower(&ctx);
  instrument(lower);
  ConvertTransformerToLoopsOptions lo;
  lo.maxTokens = opts.maxBatchTokens;
  lower.addPass(createConvertTransformerToLoops(lo));
  if (failed(lower.run(*module)))
    return inputError(opts.input + ": lowering the step function failed");
  if (opts.emit == EmitKind::Lowered)
    return writeModule();

  // Read what the manifest needs before LLVM lowering rewrites the module.
  auto abi = (*module)->getAttrOfType<DictionaryAttr>("llmc.abi");
  auto weights = (*module)->getAttrOfType<ArrayAttr>("llmc.weights");

  if (opts.output.empty())
    return inputError("-o OUT.llmc is required");
  if (std::error_code ec = llvm::sys::fs::create_directories(opts.output))
    return inputError(opts.output + ": cannot create: " + ec.message());
  llvm::SmallString<256> soPath(opts.output);
  llvm::sys::path::append(soPath, "libstep.so");
  CPUOptions cpu;
  cpu.cpu = opts.cpu;
  cpu.instrument = instrument;
  if (Error e = compileToSharedLibrary(*module, soPath, cpu))
    return e;
  auto so = llvm::MemoryBuffer::getFile(soPath);
  if (!so)
    return internalError(soPath + ": cannot read back");

  llvm::json::Object manifest;
  manifest["format"] = "llmc-artifact";
  manifest["format_version"] = kFormatVersion;
  manifest["target"] = "cpu";
  manifest["cpu"] = opts.cpu;
  llvm::json::Object modelObj =
      model ? *toJSON(model).getAsObject() : llvm::json::Object();
  manifest["model"] = std::move(modelObj);
  if (!configText.empty()) {
    if (auto cfg = llvm::json::parse(configText))
      manifest["config"] = std::move(*cfg);
    else
      llvm::consumeError(cfg.takeError());
  }
  manifest["program"] =
      llvm::json::Object{{"library", "libstep.so"},
                         {"entry", "_mlir_ciface_llmc_step"},
                         {"abi_version", kAbiVersion},
                         {"fingerprint", fingerprint((*so)->getBuffer())}};
  manifest["limits"] = llvm::json::Object{
      {"max_batch_tokens", opts.maxBatchTokens}, {"max_seq_len", maxSeqLen}};
  manifest["arena_bytes"] = intField(abi, "arena_bytes");
  manifest["vocab_size"] = intField(abi, "vocab_size");
  manifest["kv"] = llvm::json::Object{
      {"block_size", blockSize},
      {"num_caches", numCaches},
      {"kv_heads", kvHeads},
      {"head_dim", headDim},
      {"dtype", "f32"},
      {"bytes_per_block", intField(abi, "kv_bytes_per_block")}};
  manifest["weights"] = llvm::json::Object{
      {"bytes", intField(abi, "weights_bytes")},
      {"tensors", weights ? toJSON(weights) : llvm::json::Array()}};
  llvm::json::Array tokFiles;
  if (fromDir) {
    for (const char *name :
         {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
          "generation_config.json", "config.json"}) {
      llvm::SmallString<256> src(opts.input), dst(opts.output);
      llvm::sys::path::append(src, name);
      llvm::sys::path::append(dst, name);
      if (!llvm::sys::fs::exists(src))
        continue;
      if (std::error_code ec = llvm::sys::fs::copy_file(src, dst))
        return inputError(dst + ": cannot copy: " + ec.message());
      if (llvm::StringRef(name).starts_with("tokenizer"))
        tokFiles.push_back(name);
    }
  }
  manifest["tokenizer"] = llvm::json::Object{{"files", std::move(tokFiles)}};

  llvm::SmallString<256> mPath(opts.output);
  llvm::sys::path::append(mPath, "manifest.json");
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest))) << "\n";
  return writeFile(mPath, text);
}

} // namespace llmc
