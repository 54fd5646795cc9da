//===- Device.cpp - step inputs, their checks, the device factory ---------===//
#include "runtime/hal/Device.h"
#include "runtime/artifact/Artifact.h"
#include "runtime/hal/cpu/CpuDevice.h"
#ifdef LLMC_WITH_CUDA
#include "runtime/hal/cuda/CudaDevice.h"
#endif
#include "runtime/support/Error.h"

#include <fstream>
#include <string>
#include <unistd.h>

namespace llmc::rt {

Device::~Device() = default;

int64_t hostMemoryAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t value;
  std::string unit;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:")
      return value * 1024;
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<int64_t>(pages) * size : 0;
}

int64_t StepInputs::size(schema::StepDim dim, int64_t kvBlocks) const {
  switch (dim) {
  case schema::StepDim::Tokens:
    return static_cast<int64_t>(tokenIds.size());
  case schema::StepDim::LogitsRows:
    return static_cast<int64_t>(logitsIndices.size());
  case schema::StepDim::Seqs:
    return numSeqs;
  case schema::StepDim::MaxBlocks:
    return maxBlocks;
  case schema::StepDim::KvBlocks:
    return kvBlocks;
  }
  return 0;
}

const int32_t *StepInputs::data(schema::StepInput input) const {
  switch (input) {
  case schema::StepInput::TokenIds:
    return tokenIds.data();
  case schema::StepInput::Positions:
    return positions.data();
  case schema::StepInput::SeqIds:
    return seqIds.data();
  case schema::StepInput::SlotMapping:
    return slotMapping.data();
  case schema::StepInput::BlockTables:
    return blockTables.data();
  case schema::StepInput::LogitsIndices:
    return logitsIndices.data();
  }
  return nullptr;
}

void checkStepInputs(const StepInputs &in, const schema::Manifest &m,
                     int64_t kvBlocks) {
  int64_t tokens = static_cast<int64_t>(in.tokenIds.size());
  if (tokens == 0 || tokens > m.maxBatchTokens)
    fail("a step holds {} tokens; the artifact allows 1 to {} "
         "(max_batch_tokens at compile time)",
         tokens, m.maxBatchTokens);
  if (in.positions.size() != in.tokenIds.size() ||
      in.seqIds.size() != in.tokenIds.size() ||
      in.slotMapping.size() != in.tokenIds.size())
    fail("step inputs disagree: {} token ids, {} positions, {} sequence ids, "
         "{} slots",
         tokens, in.positions.size(), in.seqIds.size(), in.slotMapping.size());
  if (in.numSeqs < 1 || in.maxBlocks < 1 ||
      in.blockTables.size() != static_cast<size_t>(in.numSeqs * in.maxBlocks))
    fail("step inputs: block tables of {} entries for {} sequences of {} "
         "blocks",
         in.blockTables.size(), in.numSeqs, in.maxBlocks);
  if (static_cast<int64_t>(in.logitsIndices.size()) > tokens)
    fail("step inputs: {} rows want logits of {} tokens",
         in.logitsIndices.size(), tokens);
  for (int32_t id : in.tokenIds)
    if (id < 0 || id >= m.vocabSize)
      fail("token id {} is outside the vocabulary (0..{})", id,
           m.vocabSize - 1);
  int64_t span = in.maxBlocks * m.kvBlockSize();
  for (int64_t t = 0; t < tokens; ++t) {
    if (in.seqIds[t] < 0 || in.seqIds[t] >= in.numSeqs)
      fail("token {}: sequence id {} has no block-table row (0..{})", t,
           in.seqIds[t], in.numSeqs - 1);
    if (in.positions[t] < 0 || in.positions[t] >= span ||
        in.positions[t] >= m.maxSeqLen)
      fail("token {}: position {} is beyond its block table or max_seq_len", t,
           in.positions[t]);
    if (in.slotMapping[t] >= kvBlocks * m.kvBlockSize())
      fail("token {}: KV slot {} is outside the pool of {} blocks", t,
           in.slotMapping[t], kvBlocks);
  }
  for (int32_t b : in.blockTables)
    if (b < 0 || b >= kvBlocks)
      fail("block table entry {} is outside the KV pool (0..{})", b,
           kvBlocks - 1);
  for (int32_t r : in.logitsIndices)
    if (r < 0 || r >= tokens)
      fail("logits index {} is not a token row of the step (0..{})", r,
           tokens - 1);
}

std::unique_ptr<Device> createDevice(const Artifact &artifact,
                                     const DeviceOptions &options) {
  switch (artifact.manifest().target) {
  case schema::Target::Cpu:
    return createCpuDevice(artifact, options.threads, options.comm,
                           options.world);
  case schema::Target::Cuda:
#ifdef LLMC_WITH_CUDA
    return createCudaDevice(artifact, options);
#else
    fail("{}: a cuda artifact, and this llm-run was built without CUDA "
         "support (the CUDA toolkit's headers were not found)",
         artifact.directory());
#endif
  }
  fail("{}: an artifact of an unknown target", artifact.directory());
}

} // namespace llmc::rt
