//===- Sampler.cpp - logits processors, samplers, logprobs ----------------===//
#include "runtime/sampling/Sampler.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace llmc::rt {

void validate(const SamplingParams &p) {
  if (!(p.temperature >= 0.0f) || std::isinf(p.temperature))
    fail("temperature must be a finite number >= 0, got {}", p.temperature);
  if (p.topK < -1)
    fail("top_k must be -1, 0 (both: off) or a positive count, got {}", p.topK);
  if (!(p.topP > 0.0f && p.topP <= 1.0f))
    fail("top_p must be in (0, 1], got {}", p.topP);
  if (!(p.minP >= 0.0f && p.minP <= 1.0f))
    fail("min_p must be in [0, 1], got {}", p.minP);
  if (!(p.repetitionPenalty > 0.0f) || std::isinf(p.repetitionPenalty))
    fail("repetition_penalty must be a finite number > 0, got {}",
         p.repetitionPenalty);
  if (!(p.presencePenalty >= -2.0f && p.presencePenalty <= 2.0f))
    fail("presence_penalty must be in [-2, 2], got {}", p.presencePenalty);
  if (!(p.frequencyPenalty >= -2.0f && p.frequencyPenalty <= 2.0f))
    fail("frequency_penalty must be in [-2, 2], got {}", p.frequencyPenalty);
  if (p.logprobs < -1 || p.logprobs > SamplingParams::kMaxLogprobs)
    fail("logprobs must be in [0, {}], got {}", SamplingParams::kMaxLogprobs,
         p.logprobs);
}

Logprobs logprobsOf(const float *logits, int64_t vocab, int32_t token,
                    int64_t top) {
  float maxLogit = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i)
    sum += std::exp(static_cast<double>(logits[i]) - maxLogit);
  double logZ = maxLogit + std::log(sum);
  Logprobs out;
  out.chosen = {token, static_cast<float>(logits[token] - logZ)};
  top = std::min(top, vocab);
  if (top > 0) {
    std::vector<int32_t> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int32_t a, int32_t b) {
                        return logits[a] > logits[b] ||
                               (logits[a] == logits[b] && a < b);
                      });
    for (int64_t i = 0; i < top; ++i)
      out.top.push_back(
          {order[i], static_cast<float>(logits[order[i]] - logZ)});
  }
  return out;
}

namespace {

/// A 64-bit mix (splitmix64) so that the streams of seed s and s + 1, or of
/// one seed's n sequences, are unrelated.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t seedOf(const SamplingParams &p, uint64_t stream) {
  if (!p.seed) {
    static thread_local std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }
  // Stream 0 keeps the seed itself, so a single sequence draws from
  // mt19937_64(seed) as before.
  return stream == 0 ? *p.seed : mix(*p.seed ^ mix(stream));
}

} // namespace

Sampler::Sampler(const SamplingParams &params, uint64_t stream)
    : params_(params), rng_(seedOf(params, stream)) {
  validate(params);
}

bool Sampler::penalized() const {
  return params_.repetitionPenalty != 1.0f || params_.presencePenalty != 0.0f ||
         params_.frequencyPenalty != 0.0f;
}

Sample Sampler::sample(const float *raw, int64_t vocab,
                       const TokenHistory &history) {
  Sample out;
  const float *logits = raw;
  if (penalized()) {
    scratch_.assign(raw, raw + vocab);
    auto repeat = [&](int32_t t) {
      float &l = scratch_[t];
      l = l > 0 ? l / params_.repetitionPenalty : l * params_.repetitionPenalty;
    };
    if (params_.repetitionPenalty != 1.0f) {
      for (int32_t t : history.prompt())
        if (t >= 0 && t < vocab)
          repeat(t);
      for (const auto &[t, n] : history.output())
        if (t >= 0 && t < vocab && !history.prompt().count(t))
          repeat(t);
    }
    for (const auto &[t, n] : history.output())
      if (t >= 0 && t < vocab)
        scratch_[t] -= params_.frequencyPenalty * static_cast<float>(n) +
                       params_.presencePenalty;
    logits = scratch_.data();
  }

  if (params_.temperature < kGreedyBelow) {
    out.token =
        static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  } else {
    // Candidates by descending logit (ties: lower index first).
    order_.resize(vocab);
    std::iota(order_.begin(), order_.end(), 0);
    auto byLogit = [&](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    };
    int64_t keep =
        params_.topK > 0 ? std::min<int64_t>(params_.topK, vocab) : vocab;
    std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(),
                      byLogit);
    order_.resize(keep);

    probs_.resize(keep);
    double maxLogit = logits[order_[0]] / params_.temperature, sum = 0;
    for (int64_t i = 0; i < keep; ++i) {
      probs_[i] = std::exp(logits[order_[i]] / params_.temperature - maxLogit);
      sum += probs_[i];
    }
    for (double &p : probs_)
      p /= sum;
    int64_t n = keep;
    if (params_.topP < 1.0f) {
      // The smallest prefix whose mass reaches top_p (at least one token).
      double mass = 0;
      int64_t k = 0;
      while (k < n && mass < params_.topP)
        mass += probs_[k++];
      n = k;
    }
    if (params_.minP > 0.0f) {
      // Tokens at least min_p times as likely as the most likely one.
      double floor = params_.minP * probs_[0];
      int64_t k = 1;
      while (k < n && probs_[k] >= floor)
        ++k;
      n = k;
    }
    double mass = 0;
    for (int64_t i = 0; i < n; ++i)
      mass += probs_[i];
    // 53 random bits -> [0, 1): the same stream for a seed on every
    // platform.
    double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53 * mass;
    double acc = 0;
    out.token = order_[n - 1];
    for (int64_t i = 0; i < n; ++i) {
      acc += probs_[i];
      if (u < acc) {
        out.token = order_[i];
        break;
      }
    }
  }
  if (params_.logprobs >= 0)
    out.logprobs = logprobsOf(raw, vocab, out.token, params_.logprobs);
  return out;
}

} // namespace llmc::rt
