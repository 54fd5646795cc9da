//===- tokenizer.cpp - fuzz tokenizer.json loading, encode and decode -----===//
//
// The first byte picks the mode. Odd: the input is a tokenizer.json (up to
// a NUL byte) and the text to encode after it. Even: the input is text
// (and ids) for a real tokenizer of the shared models. Loading is refused
// with rt::Error or succeeds; encode never fails; decode refuses ids
// outside the vocabulary with rt::Error.
//
//===----------------------------------------------------------------------===//
#include "runtime/tokenizer/Tokenizer.h"
#include "FuzzSupport.h"
#include "runtime/support/Error.h"

#include <memory>

namespace {

void exercise(const llmc::rt::Tokenizer &tok, const std::string &text) {
  std::vector<int32_t> ids = tok.encode(text, /*addSpecial=*/true);
  (void)tok.decode(ids);
  (void)tok.decode(ids, /*skipSpecial=*/false);
  // The text's bytes as ids too (many outside the vocabulary).
  std::vector<int32_t> raw;
  for (size_t i = 0; i + 4 <= text.size() && raw.size() < 64; i += 4)
    raw.push_back(static_cast<int32_t>(
        static_cast<uint32_t>(static_cast<unsigned char>(text[i])) |
        static_cast<uint32_t>(static_cast<unsigned char>(text[i + 1])) << 8 |
        static_cast<uint32_t>(static_cast<unsigned char>(text[i + 2])) << 16 |
        static_cast<uint32_t>(static_cast<unsigned char>(text[i + 3])) << 24));
  try {
    (void)tok.decode(raw);
  } catch (const llmc::rt::Error &) {
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string in(reinterpret_cast<const char *>(data) + 1, size - 1);
  try {
    if (data[0] & 1) {
      size_t nul = in.find('\0');
      std::string json = in.substr(0, nul);
      std::string text = nul == std::string::npos ? "" : in.substr(nul + 1);
      std::string path =
          llmc::fuzz::asFile(reinterpret_cast<const uint8_t *>(json.data()),
                             json.size(), "tokenizer.json");
      exercise(*llmc::rt::Tokenizer::fromFile(path), text);
    } else {
      static const char *models[] = {"llama-tiny", "gpt2-tiny", "qwen2-tiny",
                                     "mistral-tiny"};
      static std::unique_ptr<llmc::rt::Tokenizer> toks[4];
      size_t k = (data[0] >> 1) % 4;
      if (!toks[k])
        toks[k] = llmc::rt::Tokenizer::fromFile(
            std::string(LLMC_MODELS_DIR) + "/" + models[k] + "/tokenizer.json");
      exercise(*toks[k], in);
    }
  } catch (const llmc::rt::Error &) {
  }
  return 0;
}
