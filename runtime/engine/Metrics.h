//===- Metrics.h - the engine's counters, gauges and histograms -*- C++ -*-===//
#ifndef LLMC_RUNTIME_ENGINE_METRICS_H
#define LLMC_RUNTIME_ENGINE_METRICS_H

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace llmc::engine {

/// A Prometheus-style histogram: counts per upper bound (the last bucket
/// is +Inf), the sum and the count of observations.
struct Histogram {
  explicit Histogram(std::vector<double> bounds = {})
      : bounds(std::move(bounds)), buckets(this->bounds.size() + 1, 0) {}
  void observe(double v) {
    size_t i = 0;
    while (i < bounds.size() && v > bounds[i])
      ++i;
    ++buckets[i];
    sum += v;
    ++count;
  }
  std::vector<double> bounds;
  std::vector<int64_t> buckets; // not cumulative
  double sum = 0;
  int64_t count = 0;
};

/// Seconds: 1 ms to 2 minutes.
inline std::vector<double> latencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
          0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0, 120.0};
}

/// What the engine counts as it runs.
struct Metrics {
  int64_t promptTokens = 0;     // prompt tokens of admitted requests
  int64_t generationTokens = 0; // tokens sampled
  int64_t requestsFinished = 0; // ended with stop or length
  int64_t requestsAborted = 0;
  int64_t requestsFailed = 0;
  int64_t steps = 0;
  int64_t prefillSteps = 0, decodeSteps = 0; // decode: one token per seq
  double prefillSeconds = 0, decodeSeconds = 0;
  Histogram timeToFirstToken{latencyBuckets()};
  Histogram interTokenLatency{latencyBuckets()};
  Histogram requestLatency{latencyBuckets()};
};

/// Metrics plus the state of the moment.
struct MetricsSnapshot : Metrics {
  int64_t running = 0, waiting = 0, preempted = 0;
  int64_t preemptions = 0;
  int64_t kvBlocksTotal = 0, kvBlocksFree = 0, kvBlockSize = 0;
  int64_t prefixQueriedTokens = 0, prefixHitTokens = 0;
};

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_METRICS_H
