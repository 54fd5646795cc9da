//===- Generator.cpp - prefill + decode of a batch of sequences -----------===//
#include "runtime/generate/Generator.h"
#include "runtime/kv/KvCacheManager.h"
#include "runtime/support/Error.h"

#include <algorithm>
#include <chrono>

namespace llmc::rt {

Generator::Generator(const schema::Manifest &manifest, Device &device)
    : manifest_(manifest), device_(device) {}

namespace {

/// One sequence of the batch.
struct Sequence {
  const std::vector<int32_t> *prompt;
  size_t prefilled = 0; // prompt tokens already in the KV cache
  int32_t pending = -1; // sampled, not yet fed back
  bool done = false;
  Sampler sampler;
  GenerateResult result;
};

} // namespace

std::vector<GenerateResult>
Generator::generateBatch(const std::vector<std::vector<int32_t>> &prompts,
                         const GenerateOptions &options,
                         const std::function<void(size_t, int32_t)> &onToken) {
  if (prompts.empty())
    fail("no prompt");
  if (options.maxNewTokens < 0)
    fail("--max-tokens must be >= 0");
  for (const std::vector<int32_t> &prompt : prompts) {
    if (prompt.empty())
      fail("the prompt is empty");
    if (static_cast<int64_t>(prompt.size()) > manifest_.maxSeqLen)
      fail("the prompt has {} tokens but the artifact's --max-seq-len is {}",
           prompt.size(), manifest_.maxSeqLen);
    for (int32_t id : prompt)
      if (id < 0 || id >= manifest_.vocabSize)
        fail("prompt token id {} is outside the vocabulary (0..{})", id,
             manifest_.vocabSize - 1);
  }

  kv::KvCacheManager blocks(static_cast<int32_t>(device_.numKvBlocks()),
                            static_cast<int32_t>(manifest_.kvBlockSize()),
                            /*prefixCaching=*/false);
  std::vector<Sequence> seqs;
  for (size_t i = 0; i < prompts.size(); ++i) {
    SamplingParams p = options.sampling;
    p.seed = p.seed.value_or(0) + i; // distinct, reproducible streams
    seqs.push_back(Sequence{&prompts[i], 0, -1, false, Sampler(p), {}});
    seqs.back().result.stopReason = "max_tokens";
  }
  int64_t vocab = manifest_.vocabSize;
  std::vector<float> logits;
  std::vector<int64_t> eos = manifest_.eosTokenIds();
  auto isEos = [&](int32_t t) {
    return std::find(eos.begin(), eos.end(), t) != eos.end();
  };

  // One step over `work`: (sequence, tokens to feed, needs logits).
  struct Work {
    size_t seq;
    std::vector<int32_t> tokens;
    bool wantLogits;
  };
  auto runStep = [&](const std::vector<Work> &work) {
    StepInputs batch;
    std::vector<size_t> logitsOwner;
    for (size_t row = 0; row < work.size(); ++row) {
      const Work &w = work[row];
      kv::SeqId id = static_cast<kv::SeqId>(w.seq);
      int64_t start = blocks.numTokens(id);
      std::optional<std::vector<kv::BlockCopy>> copies =
          blocks.allocate(id, static_cast<int64_t>(w.tokens.size()));
      if (!copies)
        fail("the KV cache is full ({} blocks)", device_.numKvBlocks());
      device_.copyBlocks(*copies);
      for (size_t i = 0; i < w.tokens.size(); ++i) {
        batch.tokenIds.push_back(w.tokens[i]);
        batch.positions.push_back(static_cast<int32_t>(start + i));
        batch.seqIds.push_back(static_cast<int32_t>(row));
        batch.slotMapping.push_back(
            static_cast<int32_t>(blocks.slotOf(id, start + i)));
      }
      if (w.wantLogits) {
        batch.logitsIndices.push_back(
            static_cast<int32_t>(batch.tokenIds.size() - 1));
        logitsOwner.push_back(w.seq);
      }
    }
    // Block tables, one row per sequence of the step, padded to the longest.
    for (const Work &w : work)
      batch.maxBlocks = std::max<int64_t>(
          batch.maxBlocks,
          blocks.blockTable(static_cast<kv::SeqId>(w.seq)).size());
    batch.numSeqs = static_cast<int64_t>(work.size());
    batch.blockTables.assign(batch.numSeqs * batch.maxBlocks, 0);
    for (size_t row = 0; row < work.size(); ++row) {
      const std::vector<int32_t> &table =
          blocks.blockTable(static_cast<kv::SeqId>(work[row].seq));
      std::copy(table.begin(), table.end(),
                batch.blockTables.begin() + row * batch.maxBlocks);
    }
    device_.run(batch, logits);

    // Sample for every sequence that got logits.
    for (size_t r = 0; r < logitsOwner.size(); ++r) {
      Sequence &s = seqs[logitsOwner[r]];
      const float *row = logits.data() + r * vocab;
      int32_t next = s.sampler.sample(row, vocab).token;
      s.result.tokens.push_back(next);
      if (options.keepLogits)
        s.result.logits.insert(s.result.logits.end(), row, row + vocab);
      if (onToken)
        onToken(logitsOwner[r], next);
      s.pending = next;
      int64_t produced = static_cast<int64_t>(s.result.tokens.size());
      kv::SeqId id = static_cast<kv::SeqId>(logitsOwner[r]);
      if (!options.ignoreEos && isEos(next)) {
        s.done = true;
        s.result.stopReason = "eos";
      } else if (produced >= options.maxNewTokens) {
        s.done = true;
      } else if (blocks.numTokens(id) + 1 > manifest_.maxSeqLen) {
        s.done = true;
        s.result.stopReason = "max_seq_len";
      }
    }
  };

  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  };
  const size_t budget = static_cast<size_t>(manifest_.maxBatchTokens);

  // Chunked prefill, several prompts per step when they fit; the step that
  // completes a prompt yields its first new token.
  auto prefillStart = Clock::now();
  if (options.maxNewTokens == 0)
    for (Sequence &s : seqs)
      s.done = true;
  while (true) {
    std::vector<Work> work;
    size_t used = 0;
    for (size_t i = 0; i < seqs.size() && used < budget; ++i) {
      Sequence &s = seqs[i];
      size_t left = s.prompt->size() - s.prefilled;
      if (left == 0)
        continue;
      size_t n = std::min(left, budget - used);
      work.push_back({i,
                      std::vector<int32_t>(s.prompt->begin() + s.prefilled,
                                           s.prompt->begin() + s.prefilled + n),
                      n == left && !s.done});
      s.prefilled += n;
      used += n;
    }
    if (work.empty())
      break;
    runStep(work);
  }
  double prefillSeconds = seconds(prefillStart);

  // Decode: every live sequence feeds its last token; as many per step as
  // the token budget allows.
  double decodeSeconds = 0;
  int64_t decodeSteps = 0;
  while (true) {
    std::vector<Work> work;
    for (size_t i = 0; i < seqs.size() && work.size() < budget; ++i)
      if (!seqs[i].done)
        work.push_back({i, {seqs[i].pending}, true});
    if (work.empty())
      break;
    auto start = Clock::now();
    runStep(work);
    decodeSeconds += seconds(start);
    ++decodeSteps;
  }

  std::vector<GenerateResult> results;
  for (Sequence &s : seqs) {
    s.result.prefillSeconds = prefillSeconds;
    s.result.decodeSeconds = decodeSeconds;
    s.result.decodeSteps = decodeSteps;
    results.push_back(std::move(s.result));
  }
  return results;
}

} // namespace llmc::rt
