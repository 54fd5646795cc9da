//===- RankGroup.cpp - rank 0 drives the other ranks, step by step --------===//
#include "runtime/comm/RankGroup.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace llmc::rt {

namespace {

/// The command header: command, argument, payload int32s, and (from the
/// workers' side, unused) padding.
using Header = std::array<int64_t, 4>;

/// The tag of the last stage's logits to rank 0 (plan sends use 0).
constexpr int kLogitsTag = 1;

} // namespace

int64_t microBatchesFor(const RankLayout &layout, int64_t tokens) {
  if (layout.microBatches > 0)
    return layout.microBatches;
  // Each micro-batch reads the stage's weights again: worth it only where
  // the work grows with the tokens (prefill), not for decode steps that
  // are bound by reading the weights.
  return std::clamp<int64_t>(tokens / kMinMicroBatchTokens, 1, layout.pp);
}

namespace {} // namespace

RankComms splitRanks(std::shared_ptr<Communicator> world,
                     const RankLayout &layout) {
  RankComms c;
  c.world = world;
  if (layout.pp == 1) {
    c.tensor = world;
    return c;
  }
  int r = world->rank();
  c.tensor = world->split(static_cast<int>(r / layout.tp),
                          static_cast<int>(r % layout.tp));
  return c;
}

std::vector<StepInputs> splitMicroBatches(const StepInputs &in, int64_t n) {
  size_t t = in.tokenIds.size();
  n = std::min<int64_t>(n, in.numSeqs);
  // Malformed steps stay whole: the device's checks report them.
  bool grouped =
      n > 1 && t > 0 && in.seqIds.size() == t && in.positions.size() == t &&
      in.slotMapping.size() == t && in.maxBlocks >= 0 &&
      in.blockTables.size() == static_cast<size_t>(in.numSeqs * in.maxBlocks);
  for (size_t i = 0; grouped && i < t; ++i)
    grouped = in.seqIds[i] >= 0 && in.seqIds[i] < in.numSeqs &&
              (i == 0 || in.seqIds[i - 1] <= in.seqIds[i]);
  for (size_t i = 0; grouped && i < in.logitsIndices.size(); ++i)
    grouped = in.logitsIndices[i] >= 0 &&
              static_cast<size_t>(in.logitsIndices[i]) < t &&
              (i == 0 || in.logitsIndices[i - 1] < in.logitsIndices[i]);
  if (!grouped)
    return {in};
  // Cut k at the sequence start nearest k/n of the tokens, leaving
  // enough sequences for the cuts after it.
  std::vector<size_t> seqStarts; // token index of every sequence but the first
  for (size_t i = 1; i < t; ++i)
    if (in.seqIds[i] != in.seqIds[i - 1])
      seqStarts.push_back(i);
  n = std::min<int64_t>(n, static_cast<int64_t>(seqStarts.size()) + 1);
  std::vector<size_t> starts = {0}; // token index of each part's start
  size_t from = 0;
  for (int64_t k = 1; k < n; ++k) {
    double target = static_cast<double>(k) * t / n;
    size_t last = seqStarts.size() - static_cast<size_t>(n - k);
    size_t best = from;
    for (size_t j = from; j <= last; ++j)
      if (std::abs(seqStarts[j] - target) < std::abs(seqStarts[best] - target))
        best = j;
    starts.push_back(seqStarts[best]);
    from = best + 1;
  }
  starts.push_back(t);
  std::vector<StepInputs> parts;
  size_t row = 0;
  for (size_t p = 0; p + 1 < starts.size(); ++p) {
    size_t b = starts[p], e = starts[p + 1];
    int32_t s0 = in.seqIds[b], s1 = in.seqIds[e - 1] + 1;
    StepInputs m;
    m.tokenIds.assign(in.tokenIds.begin() + b, in.tokenIds.begin() + e);
    m.positions.assign(in.positions.begin() + b, in.positions.begin() + e);
    m.slotMapping.assign(in.slotMapping.begin() + b,
                         in.slotMapping.begin() + e);
    for (size_t i = b; i < e; ++i)
      m.seqIds.push_back(in.seqIds[i] - s0);
    m.numSeqs = s1 - s0;
    m.maxBlocks = in.maxBlocks;
    m.blockTables.assign(in.blockTables.begin() + s0 * in.maxBlocks,
                         in.blockTables.begin() + s1 * in.maxBlocks);
    for (; row < in.logitsIndices.size() &&
           static_cast<size_t>(in.logitsIndices[row]) < e;
         ++row)
      m.logitsIndices.push_back(in.logitsIndices[row] -
                                static_cast<int32_t>(b));
    parts.push_back(std::move(m));
  }
  return parts;
}

void runPipelineStep(Device &device, Communicator &world,
                     const RankLayout &layout, const StepInputs &in,
                     int64_t microBatches, int64_t vocab,
                     std::vector<float> &logits) {
  std::vector<StepInputs> parts = splitMicroBatches(in, microBatches);
  int rank = world.rank();
  int64_t lastStage = layout.pp - 1;
  bool sendsLogits = rank == lastStage * layout.tp; // its tp rank 0
  // Rank 0 posts every part's logits receive first, so the last stage's
  // sends finish while rank 0 is still sending it later parts' inputs.
  std::vector<std::unique_ptr<Communicator::Pending>> pending;
  if (rank == 0) {
    logits.assign(in.logitsIndices.size() * vocab, 0.0f);
    size_t at = 0;
    for (const StepInputs &p : parts) {
      size_t n = p.logitsIndices.size() * vocab;
      if (n)
        pending.push_back(world.recvLater(
            logits.data() + at, n * sizeof(float),
            static_cast<int>(lastStage * layout.tp), kLogitsTag));
      at += n;
    }
  }
  std::vector<float> partLogits;
  for (const StepInputs &p : parts) {
    device.run(p, partLogits);
    if (sendsLogits && !p.logitsIndices.empty()) {
      if (vocab && partLogits.size() != p.logitsIndices.size() * vocab)
        fail("rank {}: the last pipeline stage made {} logits for {} rows "
             "of {}",
             rank, partLogits.size(), p.logitsIndices.size(), vocab);
      world.send(partLogits.data(), partLogits.size() * sizeof(float), 0,
                 kLogitsTag);
    }
  }
  for (auto &p : pending)
    p->wait();
}

void RankGroup::send(RankCommand cmd, int64_t arg,
                     const std::vector<int32_t> &payload) {
  if (down_)
    fail("rank 0 sent a command after the ranks were shut down");
  Header h{static_cast<int64_t>(cmd), arg, static_cast<int64_t>(payload.size()),
           0};
  comms_.world->broadcastWhenReady(h.data(), sizeof(h), 0);
  if (!payload.empty())
    comms_.world->broadcast(const_cast<int32_t *>(payload.data()),
                            payload.size() * sizeof(int32_t), 0);
  if (cmd == RankCommand::Shutdown)
    down_ = true;
}

void RankGroup::shutdown() {
  if (!down_)
    send(RankCommand::Shutdown, 0);
}

std::vector<int32_t> packStep(const StepInputs &in) {
  std::vector<int32_t> p;
  p.push_back(static_cast<int32_t>(in.tokenIds.size()));
  p.push_back(static_cast<int32_t>(in.numSeqs));
  p.push_back(static_cast<int32_t>(in.maxBlocks));
  p.push_back(static_cast<int32_t>(in.logitsIndices.size()));
  p.push_back(static_cast<int32_t>(in.blockTables.size()));
  for (const std::vector<int32_t> *v :
       {&in.tokenIds, &in.positions, &in.seqIds, &in.slotMapping,
        &in.blockTables, &in.logitsIndices})
    p.insert(p.end(), v->begin(), v->end());
  return p;
}

StepInputs unpackStep(const std::vector<int32_t> &p) {
  if (p.size() < 5)
    fail("a step message of {} values", p.size());
  size_t t = p[0], r = p[3], bt = p[4];
  if (p.size() != 5 + 4 * t + bt + r)
    fail("a step message of {} values for {} tokens", p.size(), t);
  StepInputs in;
  in.numSeqs = p[1];
  in.maxBlocks = p[2];
  size_t at = 5;
  auto take = [&](std::vector<int32_t> &v, size_t n) {
    v.assign(p.begin() + at, p.begin() + at + n);
    at += n;
  };
  take(in.tokenIds, t);
  take(in.positions, t);
  take(in.seqIds, t);
  take(in.slotMapping, t);
  take(in.blockTables, bt);
  take(in.logitsIndices, r);
  return in;
}

void RankGroupDevice::loadWeights(AlignedBuffer weights) {
  // The others read their own shards meanwhile.
  group_->send(RankCommand::LoadWeights, 0);
  local_->loadWeights(std::move(weights));
  // Every rank holds its weights before the first step's collectives
  // (which are timed).
  group_->comm().barrierWhenReady();
}

void RankGroupDevice::allocate(int64_t numKvBlocks) {
  group_->send(RankCommand::Allocate, numKvBlocks);
  local_->allocate(numKvBlocks);
}

void RankGroupDevice::run(const StepInputs &inputs,
                          std::vector<float> &logits) {
  const RankLayout &layout = group_->layout();
  if (layout.pp == 1) {
    group_->send(RankCommand::Step, 0, packStep(inputs));
    local_->run(inputs, logits);
    return;
  }
  int64_t n =
      microBatchesFor(layout, static_cast<int64_t>(inputs.tokenIds.size()));
  group_->send(RankCommand::Step, n, packStep(inputs));
  runPipelineStep(*local_, group_->comm(), layout, inputs, n, vocab_, logits);
}

void RankGroupDevice::copyBlocks(const std::vector<kv::BlockCopy> &copies) {
  std::vector<int32_t> p;
  for (const kv::BlockCopy &c : copies) {
    p.push_back(static_cast<int32_t>(c.src));
    p.push_back(static_cast<int32_t>(c.dst));
  }
  group_->send(RankCommand::CopyBlocks, static_cast<int64_t>(copies.size()), p);
  local_->copyBlocks(copies);
}

int64_t RankGroupDevice::memoryAvailable() const {
  // Ranks on one machine share its memory: each gets its part.
  int64_t mine = local_->memoryAvailable();
  if (!local_->hasSeparateMemory())
    mine /= group_->comm().size();
  return mine;
}

void serveRank(Device &device, Communicator &comm, const RankLayout &layout,
               const std::function<AlignedBuffer()> &loadWeights) {
  std::vector<int32_t> payload;
  std::vector<float> logits;
  for (;;) {
    Header h{};
    comm.broadcastWhenReady(h.data(), sizeof(h), 0);
    payload.resize(static_cast<size_t>(h[2]));
    if (!payload.empty())
      comm.broadcast(payload.data(), payload.size() * sizeof(int32_t), 0);
    switch (static_cast<RankCommand>(h[0])) {
    case RankCommand::Allocate:
      device.allocate(h[1]);
      break;
    case RankCommand::LoadWeights:
      device.loadWeights(loadWeights());
      comm.barrierWhenReady();
      break;
    case RankCommand::Step:
      if (layout.pp == 1)
        device.run(unpackStep(payload), logits);
      else
        runPipelineStep(device, comm, layout, unpackStep(payload), h[1],
                        /*vocab=*/0, logits);
      break;
    case RankCommand::CopyBlocks: {
      std::vector<kv::BlockCopy> copies;
      for (size_t i = 0; i + 1 < payload.size(); i += 2)
        copies.push_back(kv::BlockCopy{payload[i], payload[i + 1]});
      device.copyBlocks(copies);
      break;
    }
    case RankCommand::Shutdown:
      return;
    default:
      fail("rank {}: unknown command {} from rank 0", comm.rank(), h[0]);
    }
  }
}

} // namespace llmc::rt
