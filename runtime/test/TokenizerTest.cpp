//===- TokenizerTest.cpp - tokenizer.json against HF's own outputs --------===//
#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/support/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using llmc::rt::Tokenizer;

namespace {

class TokenizerCases : public ::testing::TestWithParam<const char *> {};

std::string modelDir(const char *model) {
  return std::string(LLMC_MODELS_DIR) + "/" + model;
}

/// Checks encode and decode against `cases` (text, ids, decoded), which
/// Hugging Face's own tokenizer produced.
void expectCases(const std::string &tokenizerJson, const std::string &cases) {
  auto tok = Tokenizer::fromFile(tokenizerJson);
  std::ifstream in(cases);
  ASSERT_TRUE(in) << "missing " << cases;
  nlohmann::json all = nlohmann::json::parse(in);
  ASSERT_FALSE(all.empty());
  for (const auto &c : all) {
    std::string text = c["text"];
    std::vector<int32_t> expected = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok->encode(text), expected) << "encoding '" << text << "'";
    EXPECT_EQ(tok->decode(expected), c["decoded"].get<std::string>())
        << "decoding the ids of '" << text << "'";
  }
}

TEST_P(TokenizerCases, MatchHuggingFace) {
  std::string dir = modelDir(GetParam());
  expectCases(dir + "/tokenizer.json", dir + "/golden/tokenizer_cases.json");
}

INSTANTIATE_TEST_SUITE_P(SharedModels, TokenizerCases,
                         ::testing::Values("gpt2-tiny", "llama-tiny",
                                           "mistral-tiny", "qwen2-tiny"));

// Styles the shared models lack (Split regex pre-tokenizers of Llama 3 and
// Qwen2, NFC, NFKC + Lowercase, ignore_merges, Metaspace "first"), with
// Unicode that normalization changes and runs of thousands of spaces (one
// BPE word); cases.json holds what
// Hugging Face's tokenizers library gives (scripts/make_tokenizer_cases.py).
class TokenizerStyles : public ::testing::TestWithParam<const char *> {};

TEST_P(TokenizerStyles, MatchHuggingFace) {
  std::string dir = std::string(LLMC_TOKENIZER_DATA_DIR) + "/" + GetParam();
  expectCases(dir + "/tokenizer.json", dir + "/cases.json");
}

INSTANTIATE_TEST_SUITE_P(Styles, TokenizerStyles,
                         ::testing::Values("llama3-style", "qwen2-style",
                                           "metaspace-first", "nfkc-lower"));

TEST(Tokenizer, SpecialTokensInTextAreMatchedWhole) {
  auto tok = Tokenizer::fromFile(modelDir("mistral-tiny") + "/tokenizer.json");
  std::vector<int32_t> ids = tok->encode("Hi</s>", /*addSpecial=*/false);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), 2);
  EXPECT_EQ(tok->decode(ids, /*skipSpecial=*/false).substr(2), "</s>");
  EXPECT_EQ(tok->decode(ids), "Hi");
}

TEST(Tokenizer, BadFilesAreClearErrors) {
  EXPECT_THROW(Tokenizer::fromFile("/nonexistent/tokenizer.json"),
               llmc::rt::Error);
  std::string path = ::testing::TempDir() + "/bad_tokenizer.json";
  std::ofstream(path) << R"({"model": {"type": "WordPiece", "vocab": {}}})";
  try {
    Tokenizer::fromFile(path);
    FAIL() << "WordPiece accepted";
  } catch (const llmc::rt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("only BPE"), std::string::npos);
  }
}

} // namespace

namespace {

/// What loading `text` as a tokenizer.json says ("" when it loads).
std::string loadError(const std::string &text) {
  std::string path = ::testing::TempDir() + "/hostile_tokenizer.json";
  std::ofstream(path) << text;
  try {
    Tokenizer::fromFile(path);
  } catch (const llmc::rt::Error &e) {
    return e.what();
  }
  return "";
}

std::string withModel(const std::string &rest) {
  return R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
             "merges": ["a b"]})" +
         rest + "}";
}

} // namespace

TEST(Tokenizer, HostileFilesAreRefusedNamingTheField) {
  struct Case {
    std::string text, says;
  };
  std::vector<Case> cases = {
      {"[]", "expected a JSON object"},
      {R"({"added_tokens": []})", "field 'model' is missing"},
      {R"({"model": {"type": "BPE", "vocab": {"a": -1}}})",
       "model.vocab['a']: token id -1 is not an integer in [0, 4194303]"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 1099511627776}}})",
       "token id 1099511627776 is not an integer"},
      {R"({"model": {"type": "BPE", "vocab": {"a": "zero"}}})",
       "token id \"zero\" is not an integer"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": 7}})",
       "field 'model.merges': expected a list"},
      {withModel(R"(, "added_tokens": [{"id": 3, "content": ""}])"),
       "field 'added_tokens[0].content' must be a non-empty string"},
      {withModel(R"(, "added_tokens": [{"id": -4, "content": "x"}])"),
       "added_tokens[0].id: token id -4"},
      {withModel(R"(, "added_tokens": [{"content": "x"}])"),
       "field 'added_tokens[0].id' is missing"},
      {withModel(R"(, "pre_tokenizer": {"type": "Metaspace",
                     "replacement": ""})"),
       "field 'pre_tokenizer.replacement' must be a non-empty string"},
      {withModel(R"(, "decoder": {"type": "Metaspace", "replacement": ""})"),
       "field 'decoder.replacement' must be a non-empty string"},
      {withModel(R"(, "normalizer": {"type": "Replace",
                     "pattern": {"String": ""}, "content": "x"})"),
       "field 'normalizer.pattern.String' must be a non-empty string"},
      {withModel(R"(, "decoder": {"type": "Strip", "content": "",
                     "start": 2147483647, "stop": 0})"),
       "field 'decoder.content' must be a non-empty string"},
      {withModel(R"(, "pre_tokenizer": {"type": "Split",
                     "pattern": {"Regex": ""}, "behavior": "Isolated"})"),
       "field 'pre_tokenizer.pattern.Regex' must be a non-empty string"},
      {withModel(R"(, "pre_tokenizer": {"type": "Sequence"})"),
       "field 'pre_tokenizer.pretokenizers' is missing"},
      {withModel(R"(, "post_processor": {"type": "TemplateProcessing",
                     "single": [{"SpecialToken": {"id": "<s>"}}],
                     "special_tokens": {"<s>": {"ids": [99]}}})"),
       "special token '<s>' is id 99, which the vocabulary does not have"},
  };
  for (const Case &c : cases) {
    std::string err = loadError(c.text);
    EXPECT_NE(err.find(c.says), std::string::npos)
        << "loading " << c.text << "\nsaid: " << err;
  }
}

TEST(Tokenizer, OptionalSectionsMayBeAbsent) {
  // No merges, normalizer, pre-tokenizer, decoder or post-processor: the
  // reference library loads this too.
  std::string path = ::testing::TempDir() + "/minimal_tokenizer.json";
  std::ofstream(path) << R"({"model": {"vocab": {"a": 0, "b": 1}}})";
  auto tok = Tokenizer::fromFile(path);
  EXPECT_EQ(tok->encode("ab"), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(tok->decode({1, 0}), "b a");
  EXPECT_THROW(tok->decode({2}), llmc::rt::Error);
  EXPECT_THROW(tok->decode({-1}), llmc::rt::Error);
}
