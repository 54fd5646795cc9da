//===- Scheduler.h - iteration-level scheduling over a KV pool --*- C++ -*-===//
//
// Decides, before every step, which sequences run and how many of their
// tokens: one ragged batch within a token budget and a sequence limit,
// running sequences first (a prefill chunk leaves a token of the budget to
// every running decode), then new ones admitted while the KV pool keeps a
// watermark of free blocks. A prompt
// longer than what is left of the budget is prefilled in chunks over
// several steps, so it never stalls running decodes. When blocks run out,
// the lowest-priority sequences are preempted: their KV is dropped and they
// go back to the waiting queue, to be recomputed (with whatever the prefix
// cache still holds) when memory allows.
//
// Policies:
// - fcfs: priority is arrival order; the most recently admitted sequence is
//   preempted first.
// - mlfq: FastServe's skip-join multi-level feedback queue. A sequence
//   enters the level whose quantum covers its prompt (longer prompts start
//   lower), is demoted after generating its level's quantum of tokens, and a
//   waiting sequence of a higher level preempts a lower running one at a
//   step boundary. A sequence that has not run for `mlfqStarvationSteps`
//   steps goes back to the top level.
//
// The scheduler never touches tensors: it is tested against the KV cache
// manager alone.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SCHED_SCHEDULER_H
#define LLMC_RUNTIME_SCHED_SCHEDULER_H

#include "runtime/kv/KvCacheManager.h"
#include "runtime/sched/Sequence.h"

#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace llmc::sched {

enum class Policy { Fcfs, Mlfq };

struct SchedulerConfig {
  int64_t maxBatchTokens = 256; // tokens per step
  int64_t maxSeqs = 256;        // sequences holding KV at once
  Policy policy = Policy::Fcfs;
  /// Fraction of the pool's blocks an admission must leave free.
  double watermark = 0.01;

  int mlfqLevels = 4;
  int64_t mlfqQuantum = 8;        // steps at the top level; x2 per level
  int64_t mlfqPromptTokens = 256; // prompt tokens the top level takes
  int64_t mlfqStarvationSteps = 500;
};

/// One sequence's share of a step: tokens [start, start + count).
struct ScheduledSeq {
  Sequence *seq = nullptr;
  int64_t start = 0;
  int64_t count = 0;
  /// The step computes the sequence's last known token: its logits give the
  /// next one.
  bool sample = false;
};

struct SchedulerOutput {
  std::vector<ScheduledSeq> seqs;
  std::vector<kv::BlockCopy> copies; // to do before the step
  std::vector<SeqId> preempted;      // in this call
  int64_t numTokens = 0;
  bool empty() const { return seqs.empty(); }
};

struct SchedulerStats {
  int64_t preemptions = 0;
  int64_t prefixQueriedTokens = 0; // prompt tokens looked up at admission
  int64_t prefixHitTokens = 0;     // of those, found in the cache
};

class Scheduler {
public:
  Scheduler(const SchedulerConfig &config, kv::KvCacheManager &kv);

  const SchedulerConfig &config() const { return config_; }

  /// Queues a new sequence (status waiting, nothing computed).
  Sequence &add(std::unique_ptr<Sequence> seq);
  /// Adds a running sequence that already shares `parent`'s blocks (the
  /// KV cache manager forked it), scheduled right after its parent.
  Sequence &addForked(std::unique_ptr<Sequence> child, SeqId parent);

  /// The next step. Empty when nothing can run.
  SchedulerOutput schedule();
  /// After the step ran: advances what each scheduled sequence computed and
  /// records full blocks in the prefix cache.
  void update(const SchedulerOutput &out);
  /// Ends a sequence (finished or aborted): frees its blocks and forgets it.
  void finish(SeqId id, SeqStatus status);

  Sequence *get(SeqId id);
  bool hasWork() const { return !running_.empty() || !waiting_.empty(); }
  size_t numRunning() const { return running_.size(); }
  size_t numWaiting() const { return waiting_.size(); }
  /// Waiting sequences that were preempted and not yet resumed.
  size_t numPreempted() const;
  const SchedulerStats &stats() const { return stats_; }
  int64_t step() const { return step_; }

  /// Checks the scheduler's own invariants (tests): every sequence in
  /// exactly one queue with a matching status, running ones holding KV for
  /// what they computed, waiting ones holding none. Throws
  /// std::logic_error.
  void verify() const;

private:
  struct Key {
    int level;
    int64_t arrival;
    SeqId id;
    bool operator<(const Key &o) const;
  };
  Key keyOf(const Sequence &s) const;
  int32_t watermarkBlocks() const;
  void preempt(Sequence &s, SchedulerOutput &out);
  /// Gives `s` slots for `count` tokens, preempting lower-priority running
  /// sequences not in this step as needed. False when none is left to take.
  bool allocate(Sequence &s, int64_t count, const kv::PrefixHit *hit,
                int32_t keepFree, bool mayPreempt, SchedulerOutput &out);
  /// The lowest-priority running sequence below `s` not in this step.
  Sequence *victimFor(const Sequence &s) const;
  void schedule(Sequence &s, int64_t &budget, SchedulerOutput &out);
  bool admit(Sequence &s, int64_t &budget, bool mayPreempt,
             SchedulerOutput &out);
  void insertSorted(std::vector<Sequence *> &queue, Sequence *s);
  void enqueueWaiting(Sequence *s);
  void scheduleFcfs(SchedulerOutput &out);
  void scheduleMlfq(SchedulerOutput &out);
  void account(const SchedulerOutput &out);

  SchedulerConfig config_;
  kv::KvCacheManager &kv_;
  std::unordered_map<SeqId, std::unique_ptr<Sequence>> seqs_;
  std::vector<Sequence *> running_; // priority order
  std::vector<Sequence *> waiting_; // priority order
  std::unordered_set<SeqId> inStep_, preemptedNow_;
  SchedulerStats stats_;
  int64_t step_ = 0;
};

Policy parsePolicy(std::string_view name); // throws rt::Error

} // namespace llmc::sched

#endif // LLMC_RUNTIME_SCHED_SCHEDULER_H
