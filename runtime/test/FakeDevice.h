//===- FakeDevice.h - a device that needs no compiled model -----*- C++ -*-===//
//
// Checks its step inputs like a real device, keeps the token id written to
// every KV slot, and answers with one-hot logits that depend on everything
// a real model's do: the token at each row's position, every earlier token
// of its sequence read back through its block table (an unwritten slot is
// an error), and the position itself. Tests can thus predict a correct
// engine's output and tell a wrong block table, slot or position apart.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_TEST_FAKEDEVICE_H
#define LLMC_RUNTIME_TEST_FAKEDEVICE_H

#include "runtime/hal/Device.h"
#include "runtime/support/Error.h"

#include <chrono>
#include <numeric>
#include <thread>

namespace llmc::test {

class FakeDevice : public rt::Device {
public:
  explicit FakeDevice(const schema::Manifest &m) : manifest_(m) {}

  /// The token a correct engine samples after `context`.
  static int32_t next(const std::vector<int32_t> &context, int64_t vocab) {
    int64_t sum = std::accumulate(context.begin(), context.end(), int64_t(0));
    return static_cast<int32_t>((sum * 31 + context.size() - 1) % vocab);
  }

  void loadWeights(rt::AlignedBuffer) override {}
  void allocate(int64_t numKvBlocks) override {
    blocks_ = numKvBlocks;
    slots_.assign(numKvBlocks * manifest_.kvBlockSize(), -1);
  }
  int64_t numKvBlocks() const override { return blocks_; }

  void run(const rt::StepInputs &in, std::vector<float> &logits) override {
    rt::checkStepInputs(in, manifest_, blocks_);
    if (stepDelay.count())
      std::this_thread::sleep_for(stepDelay);
    ++steps;
    tokensComputed += static_cast<int64_t>(in.tokenIds.size());
    maxTokensInAStep = std::max<int64_t>(
        maxTokensInAStep, static_cast<int64_t>(in.tokenIds.size()));
    for (size_t t = 0; t < in.tokenIds.size(); ++t)
      if (in.slotMapping[t] >= 0)
        slots_[in.slotMapping[t]] = in.tokenIds[t];
    int64_t vocab = manifest_.vocabSize, bs = manifest_.kvBlockSize();
    logits.assign(in.logitsIndices.size() * vocab, 0.0f);
    for (size_t r = 0; r < in.logitsIndices.size(); ++r) {
      int32_t t = in.logitsIndices[r];
      std::vector<int32_t> context;
      for (int32_t j = 0; j <= in.positions[t]; ++j) {
        int32_t block = in.blockTables[in.seqIds[t] * in.maxBlocks + j / bs];
        int32_t token = slots_[block * bs + j % bs];
        if (token < 0)
          rt::fail("fake device: position {} of sequence row {} was never "
                   "written",
                   j, in.seqIds[t]);
        context.push_back(token);
      }
      logits[r * vocab + next(context, vocab)] = 1.0f;
    }
    if (steps == poisonStep && !logits.empty())
      logits[logits.size() / 2] = poison;
  }

  void copyBlocks(const std::vector<kv::BlockCopy> &copies) override {
    int64_t bs = manifest_.kvBlockSize();
    for (const kv::BlockCopy &c : copies)
      std::copy(slots_.begin() + c.src * bs, slots_.begin() + (c.src + 1) * bs,
                slots_.begin() + c.dst * bs);
  }

  int64_t memoryAvailable() const override { return int64_t(1) << 40; }

  int64_t steps = 0;
  int64_t tokensComputed = 0;
  /// Each step takes at least this long (tests of concurrency).
  std::chrono::microseconds stepDelay{0};
  /// Step `poisonStep` (counting from 1) writes `poison` into its logits.
  int64_t poisonStep = -1;
  float poison = 0.0f;
  int64_t maxTokensInAStep = 0;

private:
  const schema::Manifest &manifest_;
  int64_t blocks_ = 0;
  std::vector<int32_t> slots_;
};

} // namespace llmc::test

#endif // LLMC_RUNTIME_TEST_FAKEDEVICE_H
