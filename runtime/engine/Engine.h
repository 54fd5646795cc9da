//===- Engine.h - requests in, one step at a time, events out ---*- C++ -*-===//
//
// The serving engine's core, after vLLM v1's EngineCore: requests are
// checked against the model and the KV pool before anything runs, split
// into sequences for the scheduler, and every step() runs one scheduler
// decision on the device, samples, and hands each request's news (tokens,
// text, logprobs, finish) to its sink. Sequences join and leave between
// steps (continuous batching); n > 1 sequences share their prompt's KV
// (forked after the prompt, copy-on-write).
//
// Single-threaded: the CLI calls step() until idle; the server runs it on
// one thread (EngineLoop) and talks to it through a queue.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ENGINE_ENGINE_H
#define LLMC_RUNTIME_ENGINE_ENGINE_H

#include "runtime/engine/Metrics.h"
#include "runtime/engine/ModelRunner.h"
#include "runtime/engine/OutputProcessor.h"
#include "runtime/engine/Request.h"
#include "runtime/hal/Device.h"
#include "runtime/kv/KvCacheManager.h"
#include "runtime/sched/Scheduler.h"
#include "runtime/tokenizer/Tokenizer.h"
#include "schema/Artifact.h"

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmc::engine {

struct EngineConfig {
  sched::SchedulerConfig scheduler;
  bool prefixCaching = true;
};

class Engine {
public:
  /// Runs on `device` (weights loaded, KV pool allocated) within the limits
  /// of `manifest`. `tokenizer` may be null: then requests get token ids,
  /// no text. The scheduler's token budget is capped at the artifact's.
  Engine(const schema::Manifest &manifest, rt::Device &device,
         const rt::Tokenizer *tokenizer, EngineConfig config);
  ~Engine();

  /// Checks a request against the model, the pool and the parameters'
  /// ranges; throws rt::Error naming the request field. Safe to call from
  /// any thread while another runs step().
  void validate(const RequestSpec &spec) const;
  /// Validates and queues a request; `sink` gets its events.
  void add(RequestSpec spec, Sink sink);
  /// Ends a request now: every sequence finishes with reason abort and its
  /// blocks are freed. Unknown ids are ignored.
  void abort(const std::string &id);
  /// Ends every request with `error` (after a failed step).
  void failAll(const std::string &error);

  bool hasWork() const { return !requests_.empty(); }
  bool has(const std::string &id) const { return requests_.count(id) != 0; }
  /// Runs one step; false when there was nothing to run.
  bool step();

  MetricsSnapshot metrics() const;
  const EngineConfig &config() const { return config_; }
  const kv::KvCacheManager &kvCache() const { return kv_; }
  int64_t maxSeqLen() const { return limits_.maxSeqLen; }

private:
  struct RequestState;
  struct SeqState;
  using Clock = std::chrono::steady_clock;

  SeqState &newSequence(RequestState &req, int64_t index, sched::SeqId id);
  void sampleAndAppend(sched::Sequence &seq, const float *row,
                       RequestEvent &event);
  void forkChildren(sched::Sequence &parent, const float *row,
                    std::unordered_map<RequestState *, RequestEvent> &events);
  void finishSequence(SeqState &st, sched::SeqStatus status);
  void deliver(RequestState &req, RequestEvent &event);

  const schema::Manifest &manifest_;
  rt::Device &device_;
  const rt::Tokenizer *tokenizer_;
  EngineConfig config_;
  Limits limits_;
  kv::KvCacheManager kv_;
  sched::Scheduler scheduler_;
  ModelRunner runner_;
  std::unordered_map<std::string, std::unique_ptr<RequestState>> requests_;
  std::unordered_map<sched::SeqId, std::unique_ptr<SeqState>> seqs_;
  sched::SeqId nextSeqId_ = 0;
  int64_t nextArrival_ = 0;
  std::vector<float> logits_;
  std::vector<LogitsRow> rows_;
  Metrics metrics_;
  int64_t steps_ = 0; // steps run, for messages
};

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_ENGINE_H
