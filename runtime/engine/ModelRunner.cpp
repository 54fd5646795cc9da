//===- ModelRunner.cpp - scheduler output -> one device step --------------===//
#include "runtime/engine/ModelRunner.h"

#include <algorithm>

namespace llmc::engine {

rt::StepInputs ModelRunner::prepare(const sched::SchedulerOutput &out,
                                    std::vector<LogitsRow> &rows) const {
  rt::StepInputs in;
  rows.clear();
  in.tokenIds.reserve(out.numTokens);
  for (size_t i = 0; i < out.seqs.size(); ++i) {
    const sched::ScheduledSeq &ss = out.seqs[i];
    const sched::Sequence &s = *ss.seq;
    for (int64_t p = ss.start; p < ss.start + ss.count; ++p) {
      in.tokenIds.push_back(s.tokens[p]);
      in.positions.push_back(static_cast<int32_t>(p));
      in.seqIds.push_back(static_cast<int32_t>(i));
      in.slotMapping.push_back(static_cast<int32_t>(kv_.slotOf(s.id, p)));
      bool last = p == ss.start + ss.count - 1;
      bool promptRow =
          s.promptLogits && p + 1 < s.promptLen && p >= s.promptLogitsDone;
      if (promptRow || (last && ss.sample)) {
        in.logitsIndices.push_back(
            static_cast<int32_t>(in.tokenIds.size() - 1));
        rows.push_back({i, p, last && ss.sample});
      }
    }
    in.maxBlocks = std::max<int64_t>(
        in.maxBlocks, static_cast<int64_t>(kv_.blockTable(s.id).size()));
  }
  in.numSeqs = static_cast<int64_t>(out.seqs.size());
  in.blockTables.assign(in.numSeqs * in.maxBlocks, 0);
  for (size_t i = 0; i < out.seqs.size(); ++i) {
    const std::vector<int32_t> &table = kv_.blockTable(out.seqs[i].seq->id);
    std::copy(table.begin(), table.end(),
              in.blockTables.begin() + i * in.maxBlocks);
  }
  return in;
}

void ModelRunner::run(const sched::SchedulerOutput &out,
                      std::vector<LogitsRow> &rows,
                      std::vector<float> &logits) {
  rt::StepInputs in = prepare(out, rows);
  if (!out.copies.empty())
    device_.copyBlocks(out.copies);
  device_.run(in, logits);
}

} // namespace llmc::engine
