//===- RankGroupTest.cpp - step messages and pipeline micro-batches -------===//
#include "runtime/comm/RankGroup.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

using namespace llmc::rt;

namespace {

/// Sequences of `lens` tokens (ids 100 + token index), two blocks each
/// (block ids 10 * seq + b), logits rows at `rows`.
StepInputs makeStep(const std::vector<int> &lens,
                    const std::vector<int32_t> &rows) {
  StepInputs in;
  in.numSeqs = static_cast<int64_t>(lens.size());
  in.maxBlocks = 2;
  for (size_t s = 0; s < lens.size(); ++s) {
    for (int p = 0; p < lens[s]; ++p) {
      in.tokenIds.push_back(100 + static_cast<int32_t>(in.tokenIds.size()));
      in.positions.push_back(p);
      in.seqIds.push_back(static_cast<int32_t>(s));
      in.slotMapping.push_back(static_cast<int32_t>(1000 * s + p));
    }
    in.blockTables.push_back(static_cast<int32_t>(10 * s));
    in.blockTables.push_back(static_cast<int32_t>(10 * s + 1));
  }
  in.logitsIndices = rows;
  return in;
}

/// The parts put back together: every token with its sequence's block
/// row, in order, and the logits rows in original token numbering.
void expectCovers(const StepInputs &in, const std::vector<StepInputs> &parts) {
  std::vector<int32_t> ids, pos, slots, rows, tables;
  int32_t base = 0;
  for (const StepInputs &p : parts) {
    ASSERT_EQ(p.tokenIds.size(), p.seqIds.size());
    ASSERT_EQ(p.blockTables.size(),
              static_cast<size_t>(p.numSeqs * p.maxBlocks));
    for (size_t t = 0; t < p.tokenIds.size(); ++t) {
      ASSERT_GE(p.seqIds[t], 0);
      ASSERT_LT(p.seqIds[t], p.numSeqs);
      ids.push_back(p.tokenIds[t]);
      pos.push_back(p.positions[t]);
      slots.push_back(p.slotMapping[t]);
      for (int64_t b = 0; b < p.maxBlocks; ++b)
        tables.push_back(p.blockTables[p.seqIds[t] * p.maxBlocks + b]);
    }
    for (int32_t r : p.logitsIndices)
      rows.push_back(r + base);
    base += static_cast<int32_t>(p.tokenIds.size());
  }
  std::vector<int32_t> wantTables;
  for (int32_t s : in.seqIds)
    for (int64_t b = 0; b < in.maxBlocks; ++b)
      wantTables.push_back(in.blockTables[s * in.maxBlocks + b]);
  EXPECT_EQ(ids, in.tokenIds);
  EXPECT_EQ(pos, in.positions);
  EXPECT_EQ(slots, in.slotMapping);
  EXPECT_EQ(tables, wantTables);
  EXPECT_EQ(rows, in.logitsIndices);
}

} // namespace

TEST(RankGroup, StepMessageRoundTrips) {
  StepInputs in = makeStep({3, 1, 2}, {2, 3, 5});
  StepInputs out = unpackStep(packStep(in));
  EXPECT_EQ(out.tokenIds, in.tokenIds);
  EXPECT_EQ(out.positions, in.positions);
  EXPECT_EQ(out.seqIds, in.seqIds);
  EXPECT_EQ(out.slotMapping, in.slotMapping);
  EXPECT_EQ(out.blockTables, in.blockTables);
  EXPECT_EQ(out.logitsIndices, in.logitsIndices);
  EXPECT_EQ(out.numSeqs, 3);
  EXPECT_EQ(out.maxBlocks, 2);
  std::vector<int32_t> cut = packStep(in);
  cut.pop_back();
  EXPECT_THROW(unpackStep(cut), Error);
}

TEST(RankGroup, MicroBatchesSplitAtSequencesByTokens) {
  // 8 tokens in sequences of 4, 1 and 3: halves of 4 and 4 tokens.
  StepInputs in = makeStep({4, 1, 3}, {1, 3, 4, 7});
  std::vector<StepInputs> parts = splitMicroBatches(in, 2);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].numSeqs, 1);
  EXPECT_EQ(parts[1].numSeqs, 2);
  EXPECT_EQ(parts[0].logitsIndices, (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(parts[1].logitsIndices, (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(parts[1].seqIds, (std::vector<int32_t>{0, 1, 1, 1}));
  EXPECT_EQ(parts[1].blockTables, (std::vector<int32_t>{10, 11, 20, 21}));
  expectCovers(in, parts);
}

TEST(RankGroup, MicroBatchesAtMostOnePerSequence) {
  StepInputs in = makeStep({2, 5}, {1, 6});
  std::vector<StepInputs> parts = splitMicroBatches(in, 4);
  EXPECT_EQ(parts.size(), 2u);
  expectCovers(in, parts);
  // Decode: one token per sequence, split evenly.
  StepInputs decode = makeStep({1, 1, 1, 1, 1, 1}, {0, 1, 2, 3, 4, 5});
  parts = splitMicroBatches(decode, 3);
  ASSERT_EQ(parts.size(), 3u);
  for (const StepInputs &p : parts)
    EXPECT_EQ(p.tokenIds.size(), 2u);
  expectCovers(decode, parts);
  // A part without logits rows (a prefill chunk that does not sample).
  StepInputs chunk = makeStep({3, 3}, {5});
  parts = splitMicroBatches(chunk, 2);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(parts[0].logitsIndices.empty());
  expectCovers(chunk, parts);
}

TEST(RankGroup, MicroBatchesKeepStepsTheyCannotSplit) {
  // Sequences out of order, logits rows out of order, a sequence id past
  // the block tables, one part asked for: the step stays whole (the
  // device's checks report what is wrong with it).
  StepInputs unordered = makeStep({2, 2}, {1, 3});
  std::swap(unordered.seqIds[0], unordered.seqIds[3]);
  EXPECT_EQ(splitMicroBatches(unordered, 2).size(), 1u);
  StepInputs rows = makeStep({2, 2}, {3, 1});
  EXPECT_EQ(splitMicroBatches(rows, 2).size(), 1u);
  StepInputs bad = makeStep({2, 2}, {1, 3});
  bad.seqIds[3] = 7;
  EXPECT_EQ(splitMicroBatches(bad, 2).size(), 1u);
  StepInputs table = makeStep({2, 2}, {1, 3});
  table.blockTables.pop_back();
  EXPECT_EQ(splitMicroBatches(table, 2).size(), 1u);
  StepInputs fine = makeStep({2, 2}, {1, 3});
  EXPECT_EQ(splitMicroBatches(fine, 1).size(), 1u);
  EXPECT_EQ(splitMicroBatches(fine, 2).size(), 2u);
}

TEST(RankGroup, MicroBatchesByDefaultOnlyForLargeSteps) {
  RankLayout pp2{1, 2, 0};
  EXPECT_EQ(microBatchesFor(pp2, 16), 1); // a decode step: one
  EXPECT_EQ(microBatchesFor(pp2, kMinMicroBatchTokens * 2), 2);
  EXPECT_EQ(microBatchesFor(pp2, 4096), 2); // at most one per stage
  RankLayout pp4{2, 4, 0};
  EXPECT_EQ(microBatchesFor(pp4, kMinMicroBatchTokens * 3), 3);
  RankLayout forced{1, 2, 5};
  EXPECT_EQ(microBatchesFor(forced, 1), 5);
}
