//===- Sampler.cpp - greedy and seeded temperature/top-k/top-p ------------===//
#include "runtime/sampling/Sampler.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace llmc::rt {

Sampler::Sampler(const SamplingParams &params)
    : params_(params), rng_(params.seed) {
  if (!(params.temperature >= 0.0f) || std::isinf(params.temperature))
    fail("--temperature must be a finite number >= 0, got {}",
         params.temperature);
  if (params.topK < 0)
    fail("--top-k must be >= 0, got {}", params.topK);
  if (!(params.topP > 0.0f && params.topP <= 1.0f))
    fail("--top-p must be in (0, 1], got {}", params.topP);
}

int32_t Sampler::sample(const float *logits, int64_t vocab) {
  if (params_.temperature == 0.0f)
    return static_cast<int32_t>(std::max_element(logits, logits + vocab) -
                                logits);

  // Candidates by descending logit (ties: lower index first).
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  auto byLogit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  int64_t keep = params_.topK > 0 ? std::min(params_.topK, vocab) : vocab;
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), byLogit);
  order.resize(keep);

  std::vector<double> probs(keep);
  double maxLogit = logits[order[0]] / params_.temperature, sum = 0;
  for (int64_t i = 0; i < keep; ++i) {
    probs[i] = std::exp(logits[order[i]] / params_.temperature - maxLogit);
    sum += probs[i];
  }
  for (double &p : probs)
    p /= sum;
  if (params_.topP < 1.0f) {
    // The smallest prefix whose mass reaches top_p (at least one token).
    double mass = 0;
    int64_t n = 0;
    while (n < keep && mass < params_.topP)
      mass += probs[n++];
    probs.resize(n);
    order.resize(n);
    for (double &p : probs)
      p /= mass;
  }
  // 53 random bits -> [0, 1): the same stream for a seed on every platform.
  double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  double acc = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    acc += probs[i];
    if (u < acc)
      return order[i];
  }
  return order.back();
}

} // namespace llmc::rt
