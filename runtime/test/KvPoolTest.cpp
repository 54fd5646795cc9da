//===- KvPoolTest.cpp - sizing the KV pool from memory --------------------===//
#include "runtime/engine/KvPool.h"
#include "TestManifest.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

using namespace llmc;
using namespace llmc::engine;

namespace {

std::string sizeError(const schema::Manifest &m, int64_t available,
                      const KvPoolOptions &o) {
  try {
    sizeKvPool(m, available, o);
  } catch (const rt::Error &e) {
    return e.what();
  }
  return "";
}

TEST(KvPool, SizedFromMemoryNotFromPrompts) {
  schema::Manifest m = test::tinyManifest(); // 2 caches of 4x1x2 f32
  ASSERT_EQ(m.kvBytesPerBlock(), 64);
  m.maxSeqLen = 16; // 4 blocks per sequence
  KvPoolOptions o;
  o.maxSeqs = 1000;
  // Half of what is left after weights (64) and arena (64).
  KvPool p = sizeKvPool(m, 128 + 64 * 100, o);
  EXPECT_EQ(p.blocks, 50);
  EXPECT_EQ(p.tokens, 200);
  EXPECT_EQ(p.bytes, 3200);
  EXPECT_EQ(p.describe(m), "50 blocks x 4 tokens = 200 tokens (0.00 GiB), "
                           "12.5 sequences of 16 tokens");
  // Never more than max_seqs full-length sequences.
  o.maxSeqs = 3;
  EXPECT_EQ(sizeKvPool(m, 128 + 64 * 100, o).blocks, 12);
  // Explicit sizes win.
  o.memoryGiB = 1.0;
  EXPECT_EQ(sizeKvPool(m, 0, o).blocks, (int64_t(1) << 30) / 64);
  o.blocks = 7;
  EXPECT_EQ(sizeKvPool(m, 0, o).blocks, 7);
}

TEST(KvPool, SaysWhyNothingFits) {
  schema::Manifest m = test::tinyManifest();
  KvPoolOptions o;
  EXPECT_EQ(sizeError(m, 100, o),
            "not enough memory for a KV cache: 0.00 GiB available, the "
            "weights take 0.00 GiB and the arena 0.00 GiB (set --kv-memory "
            "or --kv-blocks)");
  o.memoryGiB = 1e-9;
  EXPECT_EQ(sizeError(m, 0, o),
            "--kv-memory 1e-09 GiB holds no KV block (64 bytes each)");
  o.blocks = 0;
  EXPECT_EQ(sizeError(m, 0, o), "--kv-blocks must be >= 1, got 0");
}

} // namespace
