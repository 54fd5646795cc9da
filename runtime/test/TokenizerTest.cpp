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
// Qwen2, NFC, ignore_merges, Metaspace "first"); cases.json holds what
// Hugging Face's tokenizers library gives (scripts/make_tokenizer_cases.py).
class TokenizerStyles : public ::testing::TestWithParam<const char *> {};

TEST_P(TokenizerStyles, MatchHuggingFace) {
  std::string dir = std::string(LLMC_TOKENIZER_DATA_DIR) + "/" + GetParam();
  expectCases(dir + "/tokenizer.json", dir + "/cases.json");
}

INSTANTIATE_TEST_SUITE_P(Styles, TokenizerStyles,
                         ::testing::Values("llama3-style", "qwen2-style",
                                           "metaspace-first"));

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
