//===- Generator.h - prefill + decode of one sequence -----------*- C++ -*-===//
//
// Drives the step function for one sequence: chunked prefill, then decode,
// with the KV cache in blocks owned by the block manager.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_GENERATE_GENERATOR_H
#define LLMC_RUNTIME_GENERATE_GENERATOR_H

#include "runtime/exec/CpuExecutor.h"
#include "runtime/sampling/Sampler.h"

#include <functional>
#include <string>
#include <vector>

namespace llmc::rt {

struct GenerateOptions {
  int64_t maxNewTokens = 32;
  bool ignoreEos = false;
  bool keepLogits = false;
  SamplingParams sampling;
};

struct GenerateResult {
  std::vector<int32_t> tokens;
  std::vector<float> logits; // [tokens.size(), vocab] when kept
  std::string stopReason;    // "eos", "max_tokens" or "max_seq_len"
  double prefillSeconds = 0; // the prompt's steps
  double decodeSeconds = 0;  // the decode steps
  int64_t decodeSteps = 0;
};

class Generator {
public:
  Generator(const Manifest &manifest, CpuExecutor &executor);

  /// Generates after `prompt`; `onToken` sees each new token as it comes.
  GenerateResult generate(const std::vector<int32_t> &prompt,
                          const GenerateOptions &options,
                          const std::function<void(int32_t)> &onToken = {});

private:
  const Manifest &manifest_;
  CpuExecutor &executor_;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_GENERATE_GENERATOR_H
