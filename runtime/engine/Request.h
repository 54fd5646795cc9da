//===- Request.h - what a client asks of the engine, what it gets back -*-===//
//
// A request as the OpenAI completions API describes one, in the engine's
// terms: prompt token ids, sampling parameters, stop criteria, n sequences,
// prompt logprobs (echo). The engine answers with events: every step that
// produced something for the request yields one, with per-sequence deltas
// (new token ids, their logprobs, new text) and, at the end, a finish
// reason per sequence.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ENGINE_REQUEST_H
#define LLMC_RUNTIME_ENGINE_REQUEST_H

#include "runtime/sampling/Sampler.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace llmc::engine {

struct StopParams {
  int64_t maxTokens = 16;            // new tokens per sequence
  std::vector<std::string> strings;  // matched on the detokenized text
  std::vector<int32_t> stopTokenIds; // end a sequence, not shown as text
  bool ignoreEos = false;
};

struct RequestSpec {
  std::string id; // unique among the engine's live requests
  std::vector<int32_t> prompt;
  rt::SamplingParams sampling;
  StopParams stop;
  int64_t n = 1;
  /// Top alternatives for every prompt token's logprob (echo); -1: none.
  int64_t promptLogprobs = -1;
  /// Produce text (needs a tokenizer); token ids are always produced.
  bool detokenize = true;
  /// Return the raw logits row of every new token (debugging, parity).
  bool returnLogits = false;

  static constexpr int64_t kMaxN = 128;
};

enum class FinishReason { Stop, Length, Abort };
const char *nameOf(FinishReason r);

/// What one step added to one of the request's sequences.
struct SeqDelta {
  int64_t index = 0;                  // 0 .. n-1
  std::vector<int32_t> tokens;        // new token ids
  std::vector<rt::Logprobs> logprobs; // one per token, when asked
  std::vector<float> logits;          // [tokens, vocab], when asked
  std::string text;                   // new text
  std::optional<FinishReason> finish;
  /// What stopped it: the matched stop string, or the stop token id.
  std::optional<std::string> stopString;
  std::optional<int32_t> stopToken;
};

struct RequestEvent {
  std::vector<SeqDelta> deltas;
  /// Once, before any delta, when prompt logprobs were asked: one entry per
  /// prompt token (the first has none: nothing precedes it).
  std::optional<std::vector<std::optional<rt::Logprobs>>> promptLogprobs;
  bool finished = false; // every sequence has finished
  /// Set when the engine failed the request (the step failed); finished.
  std::optional<std::string> error;
  int64_t promptTokens = 0;
  int64_t completionTokens = 0; // so far, over all sequences
};

/// Receives a request's events on the engine's thread.
using Sink = std::function<void(const RequestEvent &)>;

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_REQUEST_H
