//===- Compile.h - the llmc compile flow ------------------------*- C++ -*-===//
#ifndef LLMC_DRIVER_COMPILE_H
#define LLMC_DRIVER_COMPILE_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

/// How far to compile: the artifact, or the IR at one level of the
/// pipeline.
enum class EmitKind { Artifact, MLIR, Plan, Loops, LLVM };

struct CompileOptions {
  std::string input;  // HF model directory or .mlir file
  std::string output; // artifact directory (or file/stdout for --emit)
  std::string target = "cpu";
  std::string cpu = "x86-64-v2";
  std::string arch = "sm_90a"; // cuda: the GPU architecture
  int64_t cudaThreads = 128;   // cuda: threads per block
  int64_t maxSeqLen = 0;       // 0: the model's max_position_embeddings
  int64_t maxBatchTokens = 256;
  int64_t kvBlockSize = 0; // 0: 16 for imports, the .mlir's own otherwise
  EmitKind emit = EmitKind::Artifact;
  bool printIRAfterAll = false;
  std::vector<std::string> printIRAfter; // pass arguments, e.g. tfm-plan-memory
  bool timing = false;                   // pass timing report on stderr
  bool fuse = true;                      // false: --no-fuse
  std::string weightDType = "auto";      // matrix weights: f32 bf16 f16 auto
  std::string kvDType = "f32";           // KV caches: f32 f16 bf16
  std::string quantize = "none";         // projection weights: none int8
  std::string reportPath;                // --report FILE.json
  bool printKernels = false;             // --print-kernels (stdout)
  int64_t tp = 1;                        // tensor-parallel ranks
  int64_t pp = 1;                        // pipeline-parallel stages
};

/// An error the user caused (bad config, bad flag): exit code 2.
class InputError : public llvm::ErrorInfo<InputError> {
public:
  static char ID;
  explicit InputError(std::string msg) : msg(std::move(msg)) {}
  void log(llvm::raw_ostream &os) const override { os << msg; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

private:
  std::string msg;
};

/// Imports, runs the target's pipeline and emits as `options` says.
llvm::Error compile(const CompileOptions &options);

} // namespace llmc

#endif // LLMC_DRIVER_COMPILE_H
