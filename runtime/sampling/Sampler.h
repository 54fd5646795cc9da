//===- Sampler.h - greedy and seeded temperature/top-k/top-p ----*- C++ -*-===//
#ifndef LLMC_RUNTIME_SAMPLING_SAMPLER_H
#define LLMC_RUNTIME_SAMPLING_SAMPLER_H

#include <cstdint>
#include <random>

namespace llmc::rt {

struct SamplingParams {
  float temperature = 0.0f; // 0: greedy
  int64_t topK = 0;         // 0: off
  float topP = 1.0f;        // 1: off
  uint64_t seed = 0;
};

class Sampler {
public:
  /// Throws rt::Error for out-of-range parameters.
  explicit Sampler(const SamplingParams &params);

  /// Picks the next token from one row of logits. Greedy picks the lowest
  /// index among equal maxima (as torch.argmax); sampling is reproducible
  /// for a seed.
  int32_t sample(const float *logits, int64_t vocab);

private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SAMPLING_SAMPLER_H
