//===- ModelRunner.h - scheduler output -> one device step ------*- C++ -*-===//
//
// Turns the scheduler's decision into the device's step inputs (token ids,
// positions, sequence rows, KV slots, block tables, the rows that need
// logits) and runs the step. Which rows get logits: the last token of every
// sequence that samples, and every prompt position of a sequence that wants
// prompt logprobs (echo).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ENGINE_MODELRUNNER_H
#define LLMC_RUNTIME_ENGINE_MODELRUNNER_H

#include "runtime/hal/Device.h"
#include "runtime/kv/KvCacheManager.h"
#include "runtime/sched/Scheduler.h"

#include <vector>

namespace llmc::engine {

/// One row of the step's logits: whose, and at which token position.
struct LogitsRow {
  size_t scheduled = 0; // index into SchedulerOutput::seqs
  int64_t position = 0;
  bool sample = false; // the sequence's next token comes from this row
};

class ModelRunner {
public:
  ModelRunner(rt::Device &device, const kv::KvCacheManager &kv)
      : device_(device), kv_(kv) {}

  /// Builds the inputs for `out` (after the scheduler allocated its slots).
  rt::StepInputs prepare(const sched::SchedulerOutput &out,
                         std::vector<LogitsRow> &rows) const;
  /// Copies blocks, runs the step; `logits` gets one row per `rows` entry.
  void run(const sched::SchedulerOutput &out, std::vector<LogitsRow> &rows,
           std::vector<float> &logits);

private:
  rt::Device &device_;
  const kv::KvCacheManager &kv_;
};

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_MODELRUNNER_H
