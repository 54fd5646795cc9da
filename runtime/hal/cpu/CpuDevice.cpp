//===- CpuDevice.cpp - run an artifact's plan on the CPU ------------------===//
#include "runtime/hal/cpu/CpuDevice.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/comm/Communicator.h"
#include "runtime/hal/PlanBinding.h"
#include "runtime/support/Error.h"

#include <cstring>

namespace llmc::rt {

using schema::BufferSpace;

CpuDevice::CpuDevice(
    const schema::Manifest &manifest,
    const std::function<KernelFn(const std::string &)> &resolve, int threads,
    std::shared_ptr<void> keepAlive, std::shared_ptr<Communicator> comm,
    std::shared_ptr<Communicator> world)
    : manifest_(manifest), keepAlive_(std::move(keepAlive)),
      comm_(std::move(comm)), world_(std::move(world)),
      logits_(manifest.producesLogits()),
      arena_(manifest.arenaBytes,
             "the activation arena (llmc --max-batch-tokens sizes it)"),
      pool_(threads), barrier_(pool_.size()) {
  std::unordered_map<std::string, KernelFn> kernels;
  for (const std::string &name : manifest.program.kernels)
    kernels[name] = resolve(name);
  for (const schema::PlanEntry &e : manifest.plan) {
    Launch l;
    l.kind = e.kind;
    l.axis = e.axis;
    if (e.kind == schema::EntryKind::Launch) {
      l.fn = kernels.at(e.kernel);
    } else if (e.isPointToPoint()) {
      if (!world_ || world_->size() != manifest.worldSize())
        fail("the plan has a {} between pipeline stages of {} ranks, and "
             "this device has {}",
             schema::nameOf(e.kind), manifest.worldSize(),
             world_ ? fmt::format("{} ranks", world_->size())
                    : std::string("no communicator"));
      l.peer = static_cast<int>(manifest.rankOf(e.peer, manifest.tpRank()));
    } else if (!comm_ || comm_->size() != manifest.tp) {
      fail("the plan has a {} over {} tensor-parallel ranks, and this device "
           "has {}",
           schema::nameOf(e.kind), manifest.tp,
           comm_ ? fmt::format("{} ranks", comm_->size())
                 : std::string("no communicator"));
    }
    l.args = e.args;
    l.extent = e.extent;
    l.pointers.resize(e.args.size());
    launches_.push_back(std::move(l));
  }
  cacheOffsets_ = kvCacheOffsets(manifest);
}

void CpuDevice::loadWeights(AlignedBuffer weights) {
  if (static_cast<int64_t>(weights.size()) != manifest_.weightsBytes)
    fail("packed weights of {} bytes for an artifact of {}", weights.size(),
         manifest_.weightsBytes);
  weights_ = std::move(weights);
}

void CpuDevice::allocate(int64_t numKvBlocks) {
  if (numKvBlocks < 1)
    fail("a KV pool needs at least one block");
  kv_ = AlignedBuffer(static_cast<size_t>(numKvBlocks) *
                          manifest_.kvBytesPerBlock(),
                      "the KV cache (--kv-memory or --kv-blocks make it "
                      "smaller)");
  numKvBlocks_ = numKvBlocks;
}

void CpuDevice::copyBlocks(const std::vector<kv::BlockCopy> &copies) {
  for (size_t c = 0; c < manifest_.kvCaches.size(); ++c) {
    int64_t block = manifest_.kvCaches[c].bytesPerBlock();
    uint8_t *cache = kv_.data() + numKvBlocks_ * cacheOffsets_[c];
    for (const kv::BlockCopy &copy : copies)
      std::memcpy(cache + copy.dst * block, cache + copy.src * block, block);
  }
}

void CpuDevice::run(const StepInputs &in, std::vector<float> &logits) {
  if (!weights_.data() && manifest_.weightsBytes > 0)
    fail("the device has no weights (loadWeights first)");
  if (!numKvBlocks_)
    fail("the device has no KV pool (allocate first)");
  checkStepInputs(in, manifest_, numKvBlocks_);
  // A pipeline stage before the last hands its output on instead.
  if (logits_)
    logits.assign(in.logitsIndices.size() * manifest_.vocabSize, 0.0f);
  else
    logits.clear();
  BufferBases bases;
  bases.weights = reinterpret_cast<uint64_t>(weights_.data());
  bases.arena = reinterpret_cast<uint64_t>(arena_.data());
  bases.kv = reinterpret_cast<uint64_t>(kv_.data());
  bases.output = reinterpret_cast<uint64_t>(logits.data());
  for (size_t i = 0; i < schema::kNumStepInputs; ++i)
    bases.inputs[i] =
        reinterpret_cast<uint64_t>(in.data(static_cast<schema::StepInput>(i)));
  for (size_t k = 0; k < launches_.size(); ++k) {
    Launch &l = launches_[k];
    bindLaunch(manifest_.plan[k], in, numKvBlocks_, cacheOffsets_, bases,
               l.bound);
    for (size_t a = 0; a < l.bound.pointers.size(); ++a)
      l.pointers[a] = reinterpret_cast<void *>(l.bound.pointers[a]);
  }
  int threads = pool_.size();
  pool_.run([&](int tid) {
    for (size_t k = 0; k < launches_.size(); ++k) {
      const Launch &l = launches_[k];
      if (l.kind != schema::EntryKind::Launch) {
        if (tid == 0)
          collective(manifest_.plan[k], l);
        barrier_.wait();
        continue;
      }
      auto [begin, end] = shareOf(l.bound.items, tid, threads);
      if (begin < end)
        l.fn(l.pointers.data(), l.bound.sizes.data(), begin, end);
      barrier_.wait();
    }
  });
}

void CpuDevice::collective(const schema::PlanEntry &e, const Launch &l) {
  std::vector<int64_t> in = boundShape(e, l.bound, 0);
  size_t n = 1;
  for (int64_t d : in)
    n *= static_cast<size_t>(d);
  if (l.kind == schema::EntryKind::Send) {
    world_->send(l.pointers[0], n * sizeof(float), l.peer);
    return;
  }
  if (l.kind == schema::EntryKind::Recv) {
    world_->recv(l.pointers[0], n * sizeof(float), l.peer);
    return;
  }
  auto *src = static_cast<float *>(l.pointers[0]);
  auto *dst = static_cast<float *>(l.pointers[1]);
  if (l.kind == schema::EntryKind::AllReduce) {
    comm_->allReduceSum(src, dst, n);
    return;
  }
  // all_gather: rank-major parts, then each rank's part into its place
  // along the axis.
  int ranks = comm_->size();
  gathered_.resize(n * ranks);
  comm_->allGather(src, gathered_.data(), n);
  GatherRuns runs = gatherRuns(in, l.axis);
  for (int q = 0; q < ranks; ++q)
    for (size_t o = 0; o < runs.outer; ++o)
      std::memcpy(dst + (o * ranks + q) * runs.inner,
                  gathered_.data() + q * n + o * runs.inner,
                  runs.inner * sizeof(float));
}

std::unique_ptr<Device> createCpuDevice(const Artifact &artifact, int threads,
                                        std::shared_ptr<Communicator> comm,
                                        std::shared_ptr<Communicator> world) {
  const schema::Manifest &m = artifact.manifest();
  if (m.program.abiVersion != schema::kCpuKernelAbiVersion)
    fail("{}: field 'program.abi_version': kernel ABI {} but this llm-run "
         "calls ABI {}",
         artifact.directory() + "/manifest.json", m.program.abiVersion,
         schema::kCpuKernelAbiVersion);
  auto library = std::make_shared<KernelLibrary>(artifact.programPath());
  artifact.checkBinding(library->manifestDigest());
  return std::make_unique<CpuDevice>(
      artifact.manifest(),
      [&](const std::string &name) { return library->find(name); }, threads,
      library, std::move(comm), std::move(world));
}

} // namespace llmc::rt
