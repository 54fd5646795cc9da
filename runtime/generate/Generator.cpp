//===- Generator.cpp - prefill + decode of one sequence -------------------===//
#include "runtime/generate/Generator.h"
#include "runtime/kv/BlockManager.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <chrono>

namespace llmc::rt {

Generator::Generator(const Manifest &manifest, CpuExecutor &executor)
    : manifest_(manifest), executor_(executor) {}

GenerateResult
Generator::generate(const std::vector<int32_t> &prompt,
                    const GenerateOptions &options,
                    const std::function<void(int32_t)> &onToken) {
  if (prompt.empty())
    fail("the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) > manifest_.maxSeqLen)
    fail("the prompt has {} tokens but the artifact's --max-seq-len is {}",
         prompt.size(), manifest_.maxSeqLen);
  if (options.maxNewTokens < 0)
    fail("--max-tokens must be >= 0");
  for (int32_t id : prompt)
    if (id < 0 || id >= manifest_.vocabSize)
      fail("prompt token id {} is outside the vocabulary (0..{})", id,
           manifest_.vocabSize - 1);

  const kv::SeqId seq = 0;
  kv::BlockManager blocks(static_cast<int32_t>(executor_.numKvBlocks()),
                          static_cast<int32_t>(manifest_.kvBlockSize));
  Sampler sampler(options.sampling);
  GenerateResult result;
  std::vector<float> logits;
  int64_t vocab = manifest_.vocabSize;

  // Runs `ids` (the next tokens of the sequence) and returns the logits row
  // of the last one when `wantLogits`.
  auto step = [&](const int32_t *ids, int64_t n, bool wantLogits) {
    int64_t start = blocks.numTokens(seq);
    std::optional<kv::Reservation> r = blocks.append(seq, n);
    if (!r)
      fail("the KV cache is full ({} blocks)", executor_.numKvBlocks());
    executor_.copyBlocks(r->copies);
    StepBatch batch;
    batch.tokenIds.assign(ids, ids + n);
    for (int64_t i = 0; i < n; ++i) {
      batch.positions.push_back(static_cast<int32_t>(start + i));
      batch.seqIds.push_back(0);
      batch.slotMapping.push_back(static_cast<int32_t>(r->slots[i]));
    }
    const std::vector<int32_t> &table = blocks.blockTable(seq);
    batch.blockTables.assign(table.begin(), table.end());
    batch.numSeqs = 1;
    batch.maxBlocks = static_cast<int64_t>(table.size());
    if (wantLogits)
      batch.logitsIndices.push_back(static_cast<int32_t>(n - 1));
    executor_.run(batch, logits);
  };

  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  };
  // Chunked prefill: the last chunk yields the first new token's logits.
  auto prefillStart = Clock::now();
  int64_t chunk = manifest_.maxBatchTokens;
  for (size_t off = 0; off < prompt.size(); off += chunk) {
    int64_t n = std::min<int64_t>(chunk, prompt.size() - off);
    step(prompt.data() + off, n, off + n == prompt.size());
  }
  result.prefillSeconds = seconds(prefillStart);

  auto isEos = [&](int32_t t) {
    return std::find(manifest_.eosTokenIds.begin(), manifest_.eosTokenIds.end(),
                     t) != manifest_.eosTokenIds.end();
  };
  result.stopReason = "max_tokens";
  while (static_cast<int64_t>(result.tokens.size()) < options.maxNewTokens) {
    int32_t next = sampler.sample(logits.data(), vocab);
    result.tokens.push_back(next);
    if (options.keepLogits)
      result.logits.insert(result.logits.end(), logits.begin(),
                           logits.begin() + vocab);
    if (onToken)
      onToken(next);
    if (!options.ignoreEos && isEos(next)) {
      result.stopReason = "eos";
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) >= options.maxNewTokens)
      break;
    if (blocks.numTokens(seq) + 1 > manifest_.maxSeqLen) {
      result.stopReason = "max_seq_len";
      break;
    }
    auto decodeStart = Clock::now();
    step(&next, 1, true);
    result.decodeSeconds += seconds(decodeStart);
    ++result.decodeSteps;
  }
  return result;
}

} // namespace llmc::rt
