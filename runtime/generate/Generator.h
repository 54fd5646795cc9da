//===- Generator.h - prefill + decode of a batch of sequences ---*- C++ -*-===//
//
// Drives the step function for a fixed batch of sequences: chunked prefill
// (several prompts per step when they fit), then decode steps holding every
// live sequence, with the KV cache in blocks owned by the block manager.
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
  double prefillSeconds = 0; // the batch's prefill steps
  double decodeSeconds = 0;  // the batch's decode steps
  int64_t decodeSteps = 0;
};

class Generator {
public:
  Generator(const Manifest &manifest, CpuExecutor &executor);

  /// Generates after each prompt, all in the same steps; sequence i samples
  /// with seed + i. `onToken(i, token)` sees each new token.
  std::vector<GenerateResult>
  generateBatch(const std::vector<std::vector<int32_t>> &prompts,
                const GenerateOptions &options,
                const std::function<void(size_t, int32_t)> &onToken = {});

private:
  const Manifest &manifest_;
  CpuExecutor &executor_;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_GENERATE_GENERATOR_H
