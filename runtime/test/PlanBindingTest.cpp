//===- PlanBindingTest.cpp - launches bound to a step, without a device ---===//
#include "runtime/hal/PlanBinding.h"
#include "TestManifest.h"

#include <gtest/gtest.h>

using namespace llmc;
using namespace llmc::rt;

namespace {

StepInputs twoSequences() {
  StepInputs in;
  in.tokenIds = {1, 2, 3};
  in.positions = {0, 1, 0};
  in.seqIds = {0, 0, 1};
  in.slotMapping = {0, 1, 4};
  in.numSeqs = 2;
  in.maxBlocks = 1;
  in.blockTables = {0, 1};
  in.logitsIndices = {1, 2};
  return in;
}

TEST(PlanBinding, ResolvesBuffersSizesAndItems) {
  schema::Manifest m = test::tinyManifest(); // embed, cache, logits
  StepInputs in = twoSequences();
  BufferBases bases;
  bases.weights = 0x10000;
  bases.arena = 0x20000;
  bases.kv = 0x30000;
  bases.output = 0x40000;
  for (size_t i = 0; i < schema::kNumStepInputs; ++i)
    bases.inputs[i] = 0x50000 + 0x1000 * i;
  std::vector<int64_t> offsets = kvCacheOffsets(m);
  ASSERT_EQ(offsets, (std::vector<int64_t>{0, 32})); // 4 x 1 x 2 f32 each

  BoundLaunch embed;
  bindLaunch(m.plan[0], in, /*kvBlocks=*/5, offsets, bases, embed);
  EXPECT_EQ(embed.pointers, (std::vector<uint64_t>{0x10000, 0x50000, 0x20000}));
  EXPECT_EQ(embed.sizes, (std::vector<int64_t>{3, 3})); // ids [T], out [T, 2]
  EXPECT_EQ(embed.items, 3);

  // The logits launch: the KV pool's cache 0, block tables [S, B], the
  // step inputs, the output [R, 8]; a fixed extent of 8.
  BoundLaunch logits;
  bindLaunch(m.plan[2], in, 5, offsets, bases, logits);
  EXPECT_EQ(logits.pointers[0], 0x30000u);
  EXPECT_EQ(logits.pointers[1], 0x50000u + 0x1000 * 4);
  EXPECT_EQ(logits.pointers.back(), 0x40000u);
  EXPECT_EQ(logits.sizes,
            (std::vector<int64_t>{5, 2, 1, 3, 3, 2, 2})); // N; S, B; T; T; R; R
  EXPECT_EQ(logits.items, 8);
  // Each argument's shape from the sizes: the block tables [S, B] after
  // the cache's [N], the output [R, 8] last.
  EXPECT_EQ(boundShape(m.plan[2], logits, 0),
            (std::vector<int64_t>{5, 4, 1, 2}));
  EXPECT_EQ(boundShape(m.plan[2], logits, 1), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(boundShape(m.plan[2], logits, m.plan[2].args.size() - 1),
            (std::vector<int64_t>{2, 8}));

  // A KV cache past the first starts after the first over all blocks.
  schema::PlanEntry second = m.plan[1];
  second.args[0].cache = 1;
  BoundLaunch cache;
  bindLaunch(second, in, 5, offsets, bases, cache);
  EXPECT_EQ(cache.pointers[0], 0x30000u + 5 * 32);
}

TEST(PlanBinding, PacksStepInputsOnBoundaries) {
  StepInputs in = twoSequences();
  std::vector<int32_t> packed;
  std::array<uint64_t, schema::kNumStepInputs> offsets{};
  packStepInputs(in, packed, offsets);
  for (size_t i = 0; i < schema::kNumStepInputs; ++i) {
    EXPECT_EQ(offsets[i] % 64, 0u) << i;
    auto which = static_cast<schema::StepInput>(i);
    size_t n = which == schema::StepInput::BlockTables     ? 2
               : which == schema::StepInput::LogitsIndices ? 2
                                                           : 3;
    const int32_t *want = in.data(which);
    for (size_t k = 0; k < n; ++k)
      EXPECT_EQ(packed[offsets[i] / 4 + k], want[k]) << i << "," << k;
  }
}

} // namespace

TEST(PlanBinding, GatherRunsSplitAtTheAxis) {
  // [rows 3, part 5]: along the vocabulary, each of 3 rows holds every
  // rank's 5; along the rows, one run of all 15.
  GatherRuns v = gatherRuns({3, 5}, 1);
  EXPECT_EQ(v.outer, 3u);
  EXPECT_EQ(v.inner, 5u);
  GatherRuns r = gatherRuns({3, 5}, 0);
  EXPECT_EQ(r.outer, 1u);
  EXPECT_EQ(r.inner, 15u);
  GatherRuns h = gatherRuns({2, 4, 6}, 1);
  EXPECT_EQ(h.outer, 2u);
  EXPECT_EQ(h.inner, 24u);
}
