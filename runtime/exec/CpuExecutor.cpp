//===- CpuExecutor.cpp - run the compiled step on the CPU -----------------===//
#include "runtime/exec/CpuExecutor.h"
#include "runtime/support/Error.h"

#include <cstring>

namespace llmc::rt {
namespace {

template <typename T> MemRef<T, 1> vec(const std::vector<T> &v) {
  T *p = const_cast<T *>(v.data());
  return {p, p, 0, {static_cast<int64_t>(v.size())}, {1}};
}

MemRef<int8_t, 1> bytes(const AlignedBuffer &b) {
  auto *p = reinterpret_cast<int8_t *>(b.data());
  return {p, p, 0, {static_cast<int64_t>(b.size())}, {1}};
}

} // namespace

CpuExecutor::CpuExecutor(const Artifact &artifact, AlignedBuffer weights,
                         int64_t numKvBlocks, int threads)
    : artifact_(artifact), weights_(std::move(weights)),
      kv_(static_cast<size_t>(numKvBlocks) *
          artifact.manifest().kvBytesPerBlock),
      scratch_(artifact.manifest().arenaBytes), numKvBlocks_(numKvBlocks),
      pool_(threads) {}

void CpuExecutor::copyBlocks(const std::vector<kv::BlockCopy> &copies) {
  // The pool holds each cache's blocks contiguously, one cache after another;
  // all caches share one layout (see docs/artifact.md).
  const Manifest &m = artifact_.manifest();
  int64_t perCache = m.kvBytesPerBlock / m.kvNumCaches;
  for (int64_t c = 0; c < m.kvNumCaches; ++c) {
    uint8_t *cache = kv_.data() + c * numKvBlocks_ * perCache;
    for (const kv::BlockCopy &copy : copies)
      std::memcpy(cache + copy.dst * perCache, cache + copy.src * perCache,
                  perCache);
  }
}

void CpuExecutor::run(const StepBatch &batch, std::vector<float> &logits) {
  const Manifest &m = artifact_.manifest();
  int64_t tokens = static_cast<int64_t>(batch.tokenIds.size());
  if (tokens == 0 || tokens > m.maxBatchTokens)
    fail("a step holds {} tokens; the artifact allows 1 to {} "
         "(--max-batch-tokens at compile time)",
         tokens, m.maxBatchTokens);
  if (batch.positions.size() != batch.tokenIds.size() ||
      batch.seqIds.size() != batch.tokenIds.size() ||
      batch.slotMapping.size() != batch.tokenIds.size() ||
      batch.blockTables.size() !=
          static_cast<size_t>(batch.numSeqs * batch.maxBlocks))
    fail("inconsistent step batch");
  for (int32_t id : batch.tokenIds)
    if (id < 0 || id >= m.vocabSize)
      fail("token id {} is outside the vocabulary (0..{})", id,
           m.vocabSize - 1);
  for (int32_t b : batch.blockTables)
    if (b < 0 || b >= numKvBlocks_)
      fail("block table entry {} is outside the KV pool", b);

  logits.assign(batch.logitsIndices.size() * m.vocabSize, 0.0f);
  auto ids = vec(batch.tokenIds), pos = vec(batch.positions),
       seq = vec(batch.seqIds), slots = vec(batch.slotMapping),
       lidx = vec(batch.logitsIndices);
  int32_t *bt = const_cast<int32_t *>(batch.blockTables.data());
  MemRef<int32_t, 2> tables{
      bt, bt, 0, {batch.numSeqs, batch.maxBlocks}, {batch.maxBlocks, 1}};
  auto w = bytes(weights_), kv = bytes(kv_), scratch = bytes(scratch_);
  MemRef<float, 2> out{
      logits.data(),
      logits.data(),
      0,
      {static_cast<int64_t>(batch.logitsIndices.size()), m.vocabSize},
      {m.vocabSize, 1}};
  int64_t threads = pool_.size();
  pool_.run([&](int tid) {
    // Each thread passes its own copies of the descriptors.
    auto ids1 = ids, pos1 = pos, seq1 = seq, slots1 = slots, lidx1 = lidx;
    auto tables1 = tables;
    auto w1 = w, kv1 = kv, scratch1 = scratch;
    auto out1 = out;
    artifact_.step()(&ids1, &pos1, &seq1, &slots1, &tables1, &lidx1, &w1, &kv1,
                     &scratch1, &out1, tid, threads);
  });
}

} // namespace llmc::rt
