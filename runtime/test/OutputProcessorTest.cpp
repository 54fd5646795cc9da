//===- OutputProcessorTest.cpp - incremental text and stop criteria -------===//
#include "runtime/engine/OutputProcessor.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>

using namespace llmc;
using namespace llmc::engine;

namespace {

std::unique_ptr<rt::Tokenizer> tokenizer(const std::string &model) {
  return rt::Tokenizer::fromFile(std::string(LLMC_MODELS_DIR) + "/" + model +
                                 "/tokenizer.json");
}

bool validUtf8(const std::string &s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || i + n > s.size())
      return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
        return false;
    i += n;
  }
  return true;
}

struct Fed {
  std::vector<std::string> deltas;
  std::string text;
  std::optional<FinishReason> finish;
  std::optional<std::string> stopString;
  std::optional<int32_t> stopToken;
  size_t consumed = 0; // tokens taken before it finished
};

Fed feed(const rt::Tokenizer &tok, RequestSpec &spec,
         const std::vector<int32_t> &output, Limits limits = {{}, 1 << 20}) {
  OutputProcessor p(spec, limits, &tok);
  Fed r;
  for (int32_t t : output) {
    SeqDelta d;
    ++r.consumed;
    p.add(t, std::nullopt,
          static_cast<int64_t>(spec.prompt.size() + r.consumed), d);
    r.deltas.push_back(d.text);
    r.text += d.text;
    if (d.finish) {
      r.finish = d.finish;
      r.stopString = d.stopString;
      r.stopToken = d.stopToken;
      break;
    }
  }
  return r;
}

const std::string kBad = "\xef\xbf\xbd"; // U+FFFD

const char *kTexts[] = {
    "Hello world, this is a test.",
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
    "\xf0\x9f\x98\x80 done",
    "  two spaces\tand a tab\nnew line",
};

TEST(OutputProcessor, DeltasAreTheContinuationOfThePrompt) {
  // Byte-level (llama-tiny) and Metaspace (mistral-tiny) decoders: the
  // deltas of the output tokens, appended to the prompt's text, give the
  // text of prompt + output, and no delta splits a character.
  for (const char *model : {"llama-tiny", "mistral-tiny"}) {
    auto tok = tokenizer(model);
    for (const char *text : kTexts) {
      std::vector<int32_t> all = tok->encode(text, false);
      for (size_t cut = 1; cut + 1 < all.size(); cut += 3) {
        RequestSpec spec;
        spec.prompt.assign(all.begin(), all.begin() + cut);
        spec.stop.maxTokens = 1 << 20;
        std::vector<int32_t> out(all.begin() + cut, all.end());
        Fed r = feed(*tok, spec, out);
        std::string whole = tok->decode(all), prompt = tok->decode(spec.prompt);
        if (prompt.size() >= 3 && prompt.substr(prompt.size() - 3) == kBad) {
          // The prompt ends inside a character: the output's text is what
          // follows the part of it the prompt's text holds.
          ASSERT_GE(whole.size(), r.text.size());
          EXPECT_EQ(whole.substr(whole.size() - r.text.size()), r.text);
          EXPECT_GT(r.text.size() + prompt.size(), whole.size());
        } else {
          EXPECT_EQ(prompt + r.text, whole)
              << model << " cut at " << cut << ": " << text;
        }
        for (const std::string &d : r.deltas)
          EXPECT_TRUE(validUtf8(d)) << model << ": '" << d << "'";
        EXPECT_FALSE(r.finish);
      }
    }
  }
}

TEST(OutputProcessor, StopStringsAreMatchedAcrossTokensAndCut) {
  auto tok = tokenizer("llama-tiny");
  std::string text = "The answer is 42. STOP and then more text";
  std::vector<int32_t> all = tok->encode(text, false);
  RequestSpec spec;
  spec.prompt = {all[0]};
  spec.stop.maxTokens = 100;
  spec.stop.strings = {"nothing", "STOP"};
  Fed r = feed(*tok, spec, std::vector<int32_t>(all.begin() + 1, all.end()));
  ASSERT_TRUE(r.finish);
  EXPECT_EQ(*r.finish, FinishReason::Stop);
  EXPECT_EQ(r.stopString, "STOP");
  std::string whole = tok->decode(all);
  std::string prompt = tok->decode(spec.prompt);
  // Everything before the stop string, nothing of it.
  EXPECT_EQ(prompt + r.text, whole.substr(0, whole.find("STOP")));
  EXPECT_LT(r.consumed, all.size() - 1);
  // While streaming, no delta showed a part of the stop string.
  for (const std::string &d : r.deltas)
    EXPECT_EQ(d.find('S'), std::string::npos) << d;
}

TEST(OutputProcessor, TheEarliestStopStringWins) {
  auto tok = tokenizer("llama-tiny");
  std::vector<int32_t> all = tok->encode("ab cd ef gh", false);
  RequestSpec spec;
  spec.prompt = {all[0]};
  spec.stop.strings = {"gh", "cd"};
  Fed r = feed(*tok, spec, std::vector<int32_t>(all.begin() + 1, all.end()));
  EXPECT_EQ(r.stopString, "cd");
  EXPECT_EQ(tok->decode(spec.prompt) + r.text, "ab ");
}

TEST(OutputProcessor, StopTokensEosAndLimits) {
  auto tok = tokenizer("llama-tiny");
  std::vector<int32_t> all = tok->encode("one two three four five", false);
  std::vector<int32_t> out(all.begin() + 1, all.end());
  RequestSpec spec;
  spec.prompt = {all[0]};
  // A stop token: ends the sequence, not shown as text.
  spec.stop.stopTokenIds = {out[2]};
  Fed r = feed(*tok, spec, out);
  EXPECT_EQ(r.finish, FinishReason::Stop);
  EXPECT_EQ(r.stopToken, out[2]);
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_EQ(r.text, tok->decode({all[0], out[0], out[1]})
                        .substr(tok->decode({all[0]}).size()));
  // EOS, unless ignored.
  spec.stop.stopTokenIds.clear();
  Limits limits{{out[1]}, 1 << 20};
  r = feed(*tok, spec, out, limits);
  EXPECT_EQ(r.finish, FinishReason::Stop);
  EXPECT_FALSE(r.stopToken);
  EXPECT_EQ(r.consumed, 2u);
  spec.stop.ignoreEos = true;
  spec.stop.maxTokens = 3;
  r = feed(*tok, spec, out, limits);
  EXPECT_EQ(r.finish, FinishReason::Length);
  EXPECT_EQ(r.consumed, 3u);
  // The sequence limit: prompt (1) + 2 tokens.
  spec.stop.maxTokens = 100;
  r = feed(*tok, spec, out, Limits{{}, 3});
  EXPECT_EQ(r.finish, FinishReason::Length);
  EXPECT_EQ(r.consumed, 2u);
}

} // namespace
