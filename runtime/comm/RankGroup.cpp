//===- RankGroup.cpp - rank 0 drives the other ranks, step by step --------===//
#include "runtime/comm/RankGroup.h"
#include "runtime/support/Error.h"

#include <array>

namespace llmc::rt {

namespace {

/// The command header: command, argument, payload int32s, and (from the
/// workers' side, unused) padding.
using Header = std::array<int64_t, 4>;

} // namespace

void RankGroup::send(RankCommand cmd, int64_t arg,
                     const std::vector<int32_t> &payload) {
  if (down_)
    fail("rank 0 sent a command after the ranks were shut down");
  Header h{static_cast<int64_t>(cmd), arg, static_cast<int64_t>(payload.size()),
           0};
  comm_->broadcastWhenReady(h.data(), sizeof(h), 0);
  if (!payload.empty())
    comm_->broadcast(const_cast<int32_t *>(payload.data()),
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
  group_->send(RankCommand::Step, 0, packStep(inputs));
  local_->run(inputs, logits);
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

void serveRank(Device &device, Communicator &comm,
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
      device.run(unpackStep(payload), logits);
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
