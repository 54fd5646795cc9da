//===- CpuDeviceTest.cpp - the plan executed with C++ kernels -------------===//
//
// The CPU device runs a hand-built plan (TestManifest.h) whose kernels are
// C++ functions: each buffer argument must be where the plan says, each
// dynamic size the step's, and every work item computed once whatever the
// thread count.
//
//===----------------------------------------------------------------------===//
#include "runtime/hal/cpu/CpuDevice.h"
#include "TestManifest.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace llmc;
using namespace llmc::rt;

namespace {

/// embed(table [8, 2], token_ids [T], out [T, 2]): out[t] = table[id].
void embedKernel(void *const *args, const int64_t *sizes, int64_t begin,
                 int64_t end) {
  auto *table = static_cast<const float *>(args[0]);
  auto *ids = static_cast<const int32_t *>(args[1]);
  auto *out = static_cast<float *>(args[2]);
  EXPECT_EQ(sizes[0], sizes[1]); // token_ids [T], out [T, 2]
  for (int64_t t = begin; t < end; ++t)
    for (int j = 0; j < 2; ++j)
      out[t * 2 + j] = table[ids[t] * 2 + j];
}

/// cache(kv [N, 4, 1, 2], rows [T, 2], slots [T]): the rows to their slots.
void cacheKernel(void *const *args, const int64_t *sizes, int64_t begin,
                 int64_t end) {
  auto *kv = static_cast<float *>(args[0]);
  auto *rows = static_cast<const float *>(args[1]);
  auto *slots = static_cast<const int32_t *>(args[2]);
  (void)sizes;
  for (int64_t t = begin; t < end; ++t)
    if (slots[t] >= 0)
      for (int j = 0; j < 2; ++j)
        kv[slots[t] * 2 + j] = rows[t * 2 + j];
}

/// logits(kv, tables [S, B], seq_ids [T], positions [T], indices [R],
/// out [R, 8]): out[r][v] = v + the sum of channel 0 over the keys 0..pos
/// of row r's sequence, read through its block table; this invocation
/// computes the columns [begin, end).
void logitsKernel(void *const *args, const int64_t *sizes, int64_t begin,
                  int64_t end) {
  auto *kv = static_cast<const float *>(args[0]);
  auto *tables = static_cast<const int32_t *>(args[1]);
  auto *seqIds = static_cast<const int32_t *>(args[2]);
  auto *pos = static_cast<const int32_t *>(args[3]);
  auto *indices = static_cast<const int32_t *>(args[4]);
  auto *out = static_cast<float *>(args[5]);
  // sizes: kv [N], tables [S, B], seq_ids [T], positions [T], indices [R],
  // out [R].
  int64_t maxBlocks = sizes[2], rows = sizes[5];
  EXPECT_EQ(sizes[5], sizes[6]);
  for (int64_t r = 0; r < rows; ++r) {
    int32_t t = indices[r];
    float sum = 0;
    for (int32_t j = 0; j <= pos[t]; ++j) {
      int32_t block = tables[seqIds[t] * maxBlocks + j / 4];
      sum += kv[(block * 4 + j % 4) * 2];
    }
    for (int64_t v = begin; v < end; ++v)
      out[r * 8 + v] = static_cast<float>(v) + sum;
  }
}

KernelFn resolve(const std::string &name) {
  if (name == "embed")
    return embedKernel;
  if (name == "cache")
    return cacheKernel;
  if (name == "logits")
    return logitsKernel;
  throw Error("no kernel " + name);
}

AlignedBuffer table() {
  AlignedBuffer w(64);
  auto *f = reinterpret_cast<float *>(w.data());
  for (int i = 0; i < 8; ++i) {
    f[2 * i] = static_cast<float>(i * 10); // channel 0: 10 x id
    f[2 * i + 1] = -1;
  }
  return w;
}

/// One sequence of `ids` at positions 0.., in blocks 2 and 0 of the pool.
StepInputs prefill(std::vector<int32_t> ids) {
  StepInputs in;
  in.tokenIds = ids;
  for (size_t i = 0; i < ids.size(); ++i) {
    in.positions.push_back(static_cast<int32_t>(i));
    in.seqIds.push_back(0);
    int32_t block = i < 4 ? 2 : 0;
    in.slotMapping.push_back(block * 4 + static_cast<int32_t>(i % 4));
  }
  in.numSeqs = 1;
  in.maxBlocks = 2;
  in.blockTables = {2, 0};
  in.logitsIndices = {static_cast<int32_t>(ids.size() - 1)};
  return in;
}

std::vector<float> runOn(int threads, const StepInputs &in) {
  CpuDevice device(test::tinyManifest(), resolve, threads);
  device.loadWeights(table());
  device.allocate(3);
  std::vector<float> logits;
  device.run(in, logits);
  return logits;
}

TEST(CpuDevice, RunsThePlan) {
  // Keys 0..5 hold 10 x id of tokens 1 2 3 4 5 6: the sum is 210.
  std::vector<float> logits = runOn(1, prefill({1, 2, 3, 4, 5, 6}));
  ASSERT_EQ(logits.size(), 8u);
  for (int v = 0; v < 8; ++v)
    EXPECT_EQ(logits[v], 210.0f + v);
}

TEST(CpuDevice, ThreadsSplitEveryLaunch) {
  StepInputs in = prefill({7, 1, 2, 3, 4, 5, 6});
  std::vector<float> one = runOn(1, in);
  for (int threads : {2, 3, 5})
    EXPECT_EQ(runOn(threads, in), one) << threads << " threads";
}

TEST(CpuDevice, CopiesBlocksInEveryCache) {
  CpuDevice device(test::tinyManifest(), resolve, 2);
  device.loadWeights(table());
  device.allocate(3);
  std::vector<float> logits;
  device.run(prefill({1, 2, 3}), logits); // block 2 of cache 0
  device.copyBlocks({{2, 1}});
  auto *cache0 = reinterpret_cast<float *>(device.kvPool());
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(cache0[1 * 8 + i], cache0[2 * 8 + i]) << i;
  EXPECT_EQ(cache0[1 * 8], 10.0f);
}

std::string runError(StepInputs in, int64_t blocks = 3) {
  CpuDevice device(test::tinyManifest(), resolve, 1);
  device.loadWeights(table());
  device.allocate(blocks);
  std::vector<float> logits;
  try {
    device.run(in, logits);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(CpuDevice, ChecksStepInputs) {
  StepInputs in = prefill({1, 2, 3});
  in.tokenIds[1] = 8;
  EXPECT_EQ(runError(in), "token id 8 is outside the vocabulary (0..7)");
  in = prefill({1, 2, 3});
  in.seqIds[2] = 1;
  EXPECT_EQ(runError(in),
            "token 2: sequence id 1 has no block-table row (0..0)");
  in = prefill({1, 2, 3});
  in.blockTables[1] = 3;
  EXPECT_EQ(runError(in), "block table entry 3 is outside the KV pool (0..2)");
  in = prefill({1, 2, 3});
  in.slotMapping[0] = 12;
  EXPECT_EQ(runError(in),
            "token 0: KV slot 12 is outside the pool of 3 blocks");
  in = prefill({1, 2, 3});
  in.positions[2] = 8; // past the 2 x 4 positions of the block table
  EXPECT_EQ(runError(in),
            "token 2: position 8 is beyond its block table or max_seq_len");
  in = prefill({1, 2, 3});
  in.logitsIndices = {3};
  EXPECT_EQ(runError(in),
            "logits index 3 is not a token row of the step (0..2)");
  in = prefill({1, 2, 3});
  in.positions.pop_back();
  EXPECT_EQ(runError(in), "step inputs disagree: 3 token ids, 2 positions, 3 "
                          "sequence ids, 3 slots");
  EXPECT_EQ(runError(prefill({1, 2, 3, 4, 5, 6, 7, 1, 2})),
            "a step holds 9 tokens; the artifact allows 1 to 8 "
            "(max_batch_tokens at compile time)");
  in = prefill({1});
  in.blockTables = {0};
  EXPECT_EQ(runError(in),
            "step inputs: block tables of 1 entries for 1 sequences of 2 "
            "blocks");
}

TEST(CpuDevice, RefusesToRunUnprepared) {
  CpuDevice device(test::tinyManifest(), resolve, 1);
  std::vector<float> logits;
  try {
    device.run(prefill({1}), logits);
    FAIL() << "ran without weights";
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "the device has no weights (loadWeights first)");
  }
  try {
    device.loadWeights(AlignedBuffer(32));
    FAIL() << "took weights of the wrong size";
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "packed weights of 32 bytes for an artifact of 64");
  }
}

} // namespace
