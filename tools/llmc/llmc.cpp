//===- llmc.cpp - compile a model into an llmc artifact -------------------===//
#include "llmc/Driver/Compile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

namespace cl = llvm::cl;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::OptionCategory cat("llmc options");
  cl::opt<std::string> input(cl::Positional, cl::Required,
                             cl::desc("<HF model dir | step.mlir>"),
                             cl::cat(cat));
  cl::opt<std::string> output("o", cl::desc("output artifact directory"),
                              cl::value_desc("OUT.llmc"), cl::cat(cat));
  cl::opt<std::string> target("target",
                              cl::desc("code generation target: cpu or cuda"),
                              cl::init("cpu"), cl::cat(cat));
  cl::opt<std::string> arch(
      "arch",
      cl::desc("GPU architecture for --target=cuda: sm_90a (default), "
               "sm_80, ..."),
      cl::init("sm_90a"), cl::cat(cat));
  cl::opt<int64_t> cudaThreads("cuda-threads",
                               cl::desc("threads per block for --target=cuda"),
                               cl::init(128), cl::cat(cat));
  cl::opt<std::string> cpu(
      "cpu",
      cl::desc("CPU to compile for: native, x86-64, x86-64-v2 (default), "
               "x86-64-v3, x86-64-v4 or an LLVM CPU name"),
      cl::init("x86-64-v2"), cl::cat(cat));
  cl::opt<int64_t> maxSeqLen(
      "max-seq-len",
      cl::desc("longest sequence (default: max_position_embeddings)"),
      cl::init(0), cl::cat(cat));
  cl::opt<int64_t> maxBatchTokens("max-batch-tokens",
                                  cl::desc("most tokens in one step"),
                                  cl::init(256), cl::cat(cat));
  cl::opt<int64_t> kvBlockSize(
      "kv-block-size",
      cl::desc("tokens per KV cache block (default: 16; a .mlir input's "
               "own)"),
      cl::init(0), cl::cat(cat));
  cl::opt<llmc::EmitKind> emit(
      "emit", cl::desc("what to produce"),
      cl::values(
          clEnumValN(llmc::EmitKind::Artifact, "artifact",
                     "the deployable artifact directory (default)"),
          clEnumValN(llmc::EmitKind::MLIR, "mlir", "the imported tfm step"),
          clEnumValN(llmc::EmitKind::Plan, "plan",
                     "kernels (tfm ops) and the launch plan"),
          clEnumValN(llmc::EmitKind::Loops, "loops",
                     "the kernels lowered to loops, with their entries"),
          clEnumValN(llmc::EmitKind::LLVM, "llvm",
                     "the kernels in the LLVM dialect (what is compiled)")),
      cl::init(llmc::EmitKind::Artifact), cl::cat(cat));
  cl::opt<bool> printAfterAll("print-ir-after-all",
                              cl::desc("print the IR after every pass"),
                              cl::cat(cat));
  cl::list<std::string> printAfter(
      "print-ir-after", cl::desc("print the IR after the named pass"),
      cl::value_desc("PASS"), cl::cat(cat));
  cl::opt<bool> timing("mlir-timing", cl::desc("report the time of every pass"),
                       cl::cat(cat));
  cl::opt<bool> noFuse("no-fuse",
                       cl::desc("skip the fusion passes (for comparison)"),
                       cl::cat(cat));
  cl::opt<std::string> report(
      "report", cl::desc("write the compile report (kernels, memory) as JSON"),
      cl::value_desc("FILE.json"), cl::cat(cat));
  cl::opt<int64_t> tp("tp",
                      cl::desc("tensor-parallel ranks (default 1): one plan "
                               "per rank, weights sharded Megatron-style"),
                      cl::init(1), cl::cat(cat));
  cl::opt<int64_t> pp("pp",
                      cl::desc("pipeline-parallel stages (default 1): "
                               "contiguous layers per stage, balanced by "
                               "cost; tp * pp ranks in all"),
                      cl::init(1), cl::cat(cat));
  cl::opt<std::string> weightDType(
      "weight-dtype",
      cl::desc("how matrix weights are stored: auto (the checkpoint's "
               "torch_dtype: bf16, f16, else f32; default), f32, bf16 or f16; "
               "kernels widen them to f32 as they read them"),
      cl::init("auto"), cl::cat(cat));
  cl::opt<std::string> kvDType(
      "kv-dtype",
      cl::desc("how the KV caches are stored: f32 (default), f16 or bf16 "
               "(half the KV memory; attention widens to f32)"),
      cl::init("f32"), cl::cat(cat));
  cl::opt<std::string> quantize(
      "quantize",
      cl::desc("weight-only quantization of the projection weights: none "
               "(default) or int8 (per output channel, at load)"),
      cl::init("none"), cl::cat(cat));
  cl::opt<bool> printKernels(
      "print-kernels", cl::desc("print the kernels as a table"), cl::cat(cat));
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "llmc: compile a Hugging Face model directory or a tfm .mlir step into "
      "an llmc artifact\n");

  llmc::CompileOptions opts;
  opts.input = input;
  opts.output = output;
  opts.target = target;
  opts.cpu = cpu;
  opts.arch = arch;
  opts.cudaThreads = cudaThreads;
  opts.maxSeqLen = maxSeqLen;
  opts.maxBatchTokens = maxBatchTokens;
  opts.kvBlockSize = kvBlockSize;
  opts.emit = emit;
  opts.printIRAfterAll = printAfterAll;
  opts.printIRAfter.assign(printAfter.begin(), printAfter.end());
  opts.timing = timing;
  opts.fuse = !noFuse;
  opts.weightDType = weightDType;
  opts.kvDType = kvDType;
  opts.quantize = quantize;
  opts.reportPath = report;
  opts.printKernels = printKernels;
  opts.tp = tp;
  opts.pp = pp;
  int rc = 0;
  llvm::handleAllErrors(
      llmc::compile(opts),
      [&](const llmc::InputError &e) {
        llvm::WithColor::error(llvm::errs(), "llmc") << e.message() << "\n";
        rc = 2;
      },
      [&](const llvm::ErrorInfoBase &e) {
        llvm::WithColor::error(llvm::errs(), "llmc") << e.message() << "\n";
        rc = 1;
      });
  return rc;
}
