//===- Sequence.h - what the scheduler knows of one sequence ----*- C++ -*-===//
//
// A sequence is the unit the scheduler places into steps: its tokens (the
// prompt, then what was generated), how many of them have KV in the cache,
// and its place in the state machine
//
//   waiting -> running -> finished | aborted
//                 |  ^
//                 v  |
//              preempted (back in the waiting queue, KV dropped)
//
// It holds no tensors and no sampling state: those belong to the engine.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_SCHED_SEQUENCE_H
#define LLMC_RUNTIME_SCHED_SEQUENCE_H

#include "runtime/kv/KvCacheManager.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace llmc::sched {

using SeqId = kv::SeqId;

enum class SeqStatus { Waiting, Running, Preempted, Finished, Aborted };

inline std::string_view nameOf(SeqStatus s) {
  switch (s) {
  case SeqStatus::Waiting:
    return "waiting";
  case SeqStatus::Running:
    return "running";
  case SeqStatus::Preempted:
    return "preempted";
  case SeqStatus::Finished:
    return "finished";
  case SeqStatus::Aborted:
    return "aborted";
  }
  return "?";
}

struct Sequence {
  SeqId id = 0;
  std::vector<int32_t> tokens; // prompt, then generated tokens
  int64_t promptLen = 0;
  int64_t numComputed = 0; // leading tokens whose KV is in the cache
  SeqStatus status = SeqStatus::Waiting;

  /// Order of arrival (FCFS; ties between the n sequences of one request
  /// broken by `id`).
  int64_t arrival = 0;
  /// Needs the logits of every prompt position (echo with logprobs): its
  /// prompt is computed, never taken from the prefix cache.
  bool promptLogits = false;
  /// Prompt logits rows already delivered (so a recomputation after
  /// preemption does not deliver them twice).
  int64_t promptLogitsDone = 0;

  // Multi-level feedback queue state.
  int level = 0;
  int64_t serviceInLevel = 0; // tokens generated at this level
  int64_t lastRunStep = 0;    // the step it last ran in (or arrived)

  int64_t numPreemptions = 0;

  int64_t numTokens() const { return static_cast<int64_t>(tokens.size()); }
  int64_t numOutput() const { return numTokens() - promptLen; }
  bool finished() const {
    return status == SeqStatus::Finished || status == SeqStatus::Aborted;
  }
};

} // namespace llmc::sched

#endif // LLMC_RUNTIME_SCHED_SEQUENCE_H
