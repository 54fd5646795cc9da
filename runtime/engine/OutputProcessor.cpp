//===- OutputProcessor.cpp - detokenize, stop, hold back ------------------===//
#include "runtime/engine/OutputProcessor.h"

#include <algorithm>

namespace llmc::engine {

const char *nameOf(FinishReason r) {
  switch (r) {
  case FinishReason::Stop:
    return "stop";
  case FinishReason::Length:
    return "length";
  case FinishReason::Abort:
    return "abort";
  }
  return "?";
}

namespace {

// Tokens before the first output token that the detokenizer looks at.
constexpr size_t kContextTokens = 5;

bool endsIncomplete(const std::string &text) {
  static const std::string kReplacement = "\xef\xbf\xbd";
  return text.size() >= 3 &&
         text.compare(text.size() - 3, 3, kReplacement) == 0;
}

/// Where the new text starts in `full`: after what it shares with `prefix`
/// (all of it, unless the prefix ended in an incomplete character that the
/// new tokens completed), on a character boundary.
size_t deltaStart(const std::string &prefix, const std::string &full) {
  size_t n = 0;
  while (n < prefix.size() && n < full.size() && prefix[n] == full[n])
    ++n;
  while (n > 0 && n < full.size() &&
         (static_cast<unsigned char>(full[n]) & 0xC0) == 0x80)
    --n;
  return n;
}

} // namespace

IncrementalDetokenizer::IncrementalDetokenizer(
    const rt::Tokenizer &tokenizer, const std::vector<int32_t> &context)
    : tokenizer_(tokenizer) {
  size_t keep = std::min(context.size(), kContextTokens);
  ids_.assign(context.end() - keep, context.end());
  readOffset_ = ids_.size();
}

std::string IncrementalDetokenizer::decodeRange(size_t from, size_t to) const {
  return tokenizer_.decode(
      std::vector<int32_t>(ids_.begin() + from, ids_.begin() + to));
}

std::string IncrementalDetokenizer::add(int32_t token) {
  ids_.push_back(token);
  std::string prefix = decodeRange(prefixOffset_, readOffset_);
  std::string full = decodeRange(prefixOffset_, ids_.size());
  if (full.size() <= prefix.size() || endsIncomplete(full))
    return "";
  prefixOffset_ = readOffset_;
  readOffset_ = ids_.size();
  return full.substr(deltaStart(prefix, full));
}

std::string IncrementalDetokenizer::flush() {
  std::string prefix = decodeRange(prefixOffset_, readOffset_);
  std::string full = decodeRange(prefixOffset_, ids_.size());
  prefixOffset_ = readOffset_ = ids_.size();
  return full.size() > prefix.size() ? full.substr(deltaStart(prefix, full))
                                     : "";
}

OutputProcessor::OutputProcessor(const RequestSpec &spec, const Limits &limits,
                                 const rt::Tokenizer *tokenizer)
    : spec_(spec), limits_(limits) {
  if (tokenizer && spec.detokenize)
    detok_.emplace(*tokenizer, spec.prompt);
  for (const std::string &s : spec.stop.strings)
    holdBack_ = std::max(holdBack_, s.size() - 1);
}

void OutputProcessor::finish(FinishReason reason, SeqDelta &delta) {
  finished_ = true;
  delta.finish = reason;
}

void OutputProcessor::add(int32_t token, std::optional<rt::Logprobs> logprobs,
                          int64_t totalTokens, SeqDelta &delta) {
  ++generated_;
  delta.tokens.push_back(token);
  if (logprobs)
    delta.logprobs.push_back(std::move(*logprobs));
  auto has = [](const auto &list, int64_t t) {
    return std::find(list.begin(), list.end(), t) != list.end();
  };
  if (has(spec_.stop.stopTokenIds, token)) {
    delta.stopToken = token;
    finish(FinishReason::Stop, delta);
  } else if (!spec_.stop.ignoreEos && has(limits_.eosTokenIds, token)) {
    finish(FinishReason::Stop, delta);
  } else if (detok_) {
    size_t before = text_.size();
    text_ += detok_->add(token);
    // The earliest stop string in the new text (a match may begin in text
    // held back from earlier steps).
    size_t from = before > holdBack_ ? before - holdBack_ : 0;
    size_t at = std::string::npos;
    const std::string *hit = nullptr;
    for (const std::string &s : spec_.stop.strings) {
      size_t p = text_.find(s, from);
      if (p != std::string::npos && p < at) {
        at = p;
        hit = &s;
      }
    }
    if (hit) {
      text_.resize(at);
      delta.stopString = *hit;
      finish(FinishReason::Stop, delta);
    }
  }
  if (!finished_ &&
      (generated_ >= spec_.stop.maxTokens || totalTokens >= limits_.maxSeqLen))
    finish(FinishReason::Length, delta);
  if (finished_ && detok_ && !delta.stopString)
    text_ += detok_->flush();

  size_t stable = text_.size();
  if (!finished_) {
    stable = stable > holdBack_ ? stable - holdBack_ : 0;
    // Never split a UTF-8 character.
    while (stable > emitted_ && stable < text_.size() &&
           (static_cast<unsigned char>(text_[stable]) & 0xC0) == 0x80)
      --stable;
  }
  if (stable > emitted_) {
    delta.text += text_.substr(emitted_, stable - emitted_);
    emitted_ = stable;
  }
}

} // namespace llmc::engine
