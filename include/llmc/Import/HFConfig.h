//===- HFConfig.h - Hugging Face config.json, normalized --------*- C++ -*-===//
//
// One architecture-neutral description of a decoder-only model, read from a
// Hugging Face model directory's config.json (transformers 4.x or 5.x form)
// and generation_config.json.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_IMPORT_HFCONFIG_H
#define LLMC_IMPORT_HFCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmc {

enum class Architecture { Llama, Mistral, Qwen2, GPT2 };

enum class Activation { SiLU, GELU, GELUTanh };

struct RopeConfig {
  std::string type = "default"; // default | linear | llama3 | dynamic
  double theta = 10000.0;
  double factor = 1.0;
  double lowFreqFactor = 1.0;
  double highFreqFactor = 4.0;
  int64_t originalMaxPositions = 0;
  int64_t rotaryDim = 0;
};

struct ModelConfig {
  Architecture arch = Architecture::Llama;
  std::string architectureName; // as config.json spells it
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  int64_t intermediate = 0;
  int64_t vocab = 0;
  int64_t maxPositions = 0;
  double normEps = 1e-6;
  Activation activation = Activation::SiLU;
  bool tiedEmbeddings = false;
  bool qkvBias = false;
  bool outBias = false;
  bool mlpBias = false;
  RopeConfig rope;                     // unused by GPT-2
  std::vector<int64_t> slidingWindow;  // per layer; 0 = full attention
  double attentionScale = 0.0;         // scores scale, before the next
  bool scaleByInverseLayerIdx = false; // GPT-2: also divide by layer + 1
  std::vector<int64_t> eosTokenIds;
  std::optional<int64_t> bosTokenId;
  std::string dtype = "float32";
};

/// Reads and validates `<dir>/config.json` (and generation_config.json when
/// present). Errors name the file and the field.
llvm::Expected<ModelConfig> readHFConfig(llvm::StringRef modelDir);

/// Validates an already-parsed config.json text; `path` is used in messages.
llvm::Expected<ModelConfig> parseHFConfig(llvm::StringRef text,
                                          llvm::StringRef path);

llvm::StringRef architectureName(Architecture arch);

} // namespace llmc

#endif // LLMC_IMPORT_HFCONFIG_H
