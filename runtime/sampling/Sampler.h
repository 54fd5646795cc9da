//===- Sampler.h - logits processors, samplers, logprobs --------*- C++ -*-===//
//
// Per-sequence sampling as vLLM and the OpenAI API define it: penalties
// (repetition over prompt and output, presence and frequency over the
// output), temperature, then top-k, top-p and min-p, then a draw from the
// sequence's own random stream, so a seeded request samples the same tokens
// whatever else shares its steps. Log-probabilities are those of the model's
// distribution (the raw logits), as vLLM reports them by default.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SAMPLING_SAMPLER_H
#define LLMC_RUNTIME_SAMPLING_SAMPLER_H

#include <cstdint>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace llmc::rt {

/// Temperatures below this sample greedily: dividing the logits by less
/// overflows them (vLLM's threshold too).
inline constexpr float kGreedyBelow = 1e-5f;

struct SamplingParams {
  float temperature = 0.0f;       // 0 (or below kGreedyBelow): greedy
  int64_t topK = 0;               // 0 or -1: off
  float topP = 1.0f;              // 1: off
  float minP = 0.0f;              // 0: off
  float repetitionPenalty = 1.0f; // 1: off
  float presencePenalty = 0.0f;   // 0: off
  float frequencyPenalty = 0.0f;  // 0: off
  std::optional<uint64_t> seed;   // none: a fresh random stream
  int64_t logprobs = -1;          // alternatives per new token; -1: none

  static constexpr int64_t kMaxLogprobs = 20;
};

/// Throws rt::Error naming the field (as the OpenAI API spells it) when a
/// value is out of range.
void validate(const SamplingParams &params);

struct TokenLogprob {
  int32_t token;
  float logprob;
  bool operator==(const TokenLogprob &o) const {
    return token == o.token && logprob == o.logprob;
  }
};

/// The log-probability of `token` under `logits` and the `top` most likely
/// tokens (descending; ties: lower id first).
struct Logprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
  bool operator==(const Logprobs &o) const {
    return chosen == o.chosen && top == o.top;
  }
};
Logprobs logprobsOf(const float *logits, int64_t vocab, int32_t token,
                    int64_t top);

/// What the penalties look at: the prompt's distinct tokens and the counts
/// of the tokens generated so far.
class TokenHistory {
public:
  void addPrompt(const std::vector<int32_t> &tokens) {
    prompt_.insert(tokens.begin(), tokens.end());
  }
  void addOutput(int32_t token) { ++output_[token]; }
  const std::unordered_set<int32_t> &prompt() const { return prompt_; }
  const std::unordered_map<int32_t, int32_t> &output() const { return output_; }

private:
  std::unordered_set<int32_t> prompt_;
  std::unordered_map<int32_t, int32_t> output_;
};

struct Sample {
  int32_t token = 0;
  std::optional<Logprobs> logprobs; // when params.logprobs >= 0
};

class Sampler {
public:
  /// `stream` tells apart the n sequences of one request: with a seed, each
  /// gets its own reproducible stream. Throws like validate().
  explicit Sampler(const SamplingParams &params, uint64_t stream = 0);

  /// Picks the next token from one row of logits. Greedy picks the lowest
  /// index among equal maxima (as torch.argmax).
  Sample sample(const float *logits, int64_t vocab,
                const TokenHistory &history = TokenHistory());

  const SamplingParams &params() const { return params_; }

private:
  bool penalized() const;
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<float> scratch_;
  std::vector<int32_t> order_;
  std::vector<double> probs_;
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_SAMPLING_SAMPLER_H
