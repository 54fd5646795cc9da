//===- OutputProcessor.h - detokenize, stop, hold back ----------*- C++ -*-===//
//
// Turns one sequence's new tokens into text deltas: incremental
// detokenization over a short window of preceding tokens (so a decoder that
// treats the start of a text specially, like Metaspace's leading space,
// sees the same context it would in the whole text), never emitting half a
// UTF-8 character; stop criteria (EOS, stop token ids, stop strings matched
// on the text across token boundaries and cut from it, max_tokens, the
// sequence limit); and, while streaming, holding back the text that could
// still become the start of a stop string.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ENGINE_OUTPUTPROCESSOR_H
#define LLMC_RUNTIME_ENGINE_OUTPUTPROCESSOR_H

#include "runtime/engine/Request.h"
#include "runtime/tokenizer/Tokenizer.h"

#include <optional>
#include <string>
#include <vector>

namespace llmc::engine {

/// The text of a growing token sequence, a delta at a time.
class IncrementalDetokenizer {
public:
  /// `context`: tokens before the first one to decode (the prompt's tail).
  IncrementalDetokenizer(const rt::Tokenizer &tokenizer,
                         const std::vector<int32_t> &context);
  /// Adds a token; returns the text that became stable (may be empty).
  std::string add(int32_t token);
  /// Whatever is still held back (an incomplete character at the end).
  std::string flush();

private:
  std::string decodeRange(size_t from, size_t to) const;
  const rt::Tokenizer &tokenizer_;
  std::vector<int32_t> ids_;
  size_t prefixOffset_ = 0, readOffset_ = 0;
};

struct Limits {
  std::vector<int64_t> eosTokenIds;
  int64_t maxSeqLen = 0; // prompt + output tokens at most
};

class OutputProcessor {
public:
  /// `tokenizer` may be null (no text).
  OutputProcessor(const RequestSpec &spec, const Limits &limits,
                  const rt::Tokenizer *tokenizer);

  /// Takes the sequence's next token; fills `delta` (tokens, text, finish).
  /// `totalTokens` counts prompt and output including this token.
  void add(int32_t token, std::optional<rt::Logprobs> logprobs,
           int64_t totalTokens, SeqDelta &delta);
  bool finished() const { return finished_; }
  const std::string &text() const { return text_; }

private:
  void finish(FinishReason reason, SeqDelta &delta);

  const RequestSpec &spec_;
  const Limits &limits_;
  std::optional<IncrementalDetokenizer> detok_;
  std::string text_;   // output text so far, stop string cut
  size_t emitted_ = 0; // bytes of text_ already sent
  size_t holdBack_ = 0;
  int64_t generated_ = 0;
  bool finished_ = false;
};

} // namespace llmc::engine

#endif // LLMC_RUNTIME_ENGINE_OUTPUTPROCESSOR_H
