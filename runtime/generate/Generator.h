//===- Generator.h - prefill + decode of a batch of sequences ---*- C++ -*-===//
//
// Drives a device for a fixed batch of sequences: chunked prefill (several
// prompts per step when they fit), then decode steps holding every live
// sequence, with the KV cache in blocks owned by the block manager.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_GENERATE_GENERATOR_H
#define LLMC_RUNTIME_GENERATE_GENERATOR_H

#include "runtime/hal/Device.h"
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
  /// Runs on `device` within the limits of `manifest` (the device's
  /// artifact's: step budget, sequence length, vocabulary, EOS).
  Generator(const schema::Manifest &manifest, Device &device);

  /// Generates after each prompt, all in the same steps; sequence i samples
  /// with seed + i. `onToken(i, token)` sees each new token.
  std::vector<GenerateResult>
  generateBatch(const std::vector<std::vector<int32_t>> &prompts,
                const GenerateOptions &options,
                const std::function<void(size_t, int32_t)> &onToken = {});

private:
  const schema::Manifest &manifest_;
  Device &device_;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_GENERATE_GENERATOR_H
