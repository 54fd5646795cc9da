//===- Tokenizer.h - Hugging Face tokenizer.json in C++ ---------*- C++ -*-===//
//
// BPE tokenizers as the `tokenizers` library describes them in
// tokenizer.json: byte-level BPE (GPT-2, Llama 3, Qwen2) and Metaspace BPE
// with byte fallback (Llama 2, Mistral), with added/special tokens, the
// post-processor's template and the decoder chain.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_TOKENIZER_TOKENIZER_H
#define LLMC_RUNTIME_TOKENIZER_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmc::rt {

class Tokenizer {
public:
  virtual ~Tokenizer() = default;

  /// Token ids of `text`, with the post-processor's special tokens when
  /// `addSpecialTokens`.
  virtual std::vector<int32_t> encode(const std::string &text,
                                      bool addSpecialTokens = true) const = 0;
  /// Text of `ids`, dropping special tokens when `skipSpecialTokens`.
  virtual std::string decode(const std::vector<int32_t> &ids,
                             bool skipSpecialTokens = true) const = 0;
  virtual int64_t vocabSize() const = 0;

  /// Reads a tokenizer.json; throws rt::Error naming the file and the
  /// component it cannot handle.
  static std::unique_ptr<Tokenizer> fromFile(const std::string &path);
};

} // namespace llmc::rt

#endif // LLMC_RUNTIME_TOKENIZER_TOKENIZER_H
