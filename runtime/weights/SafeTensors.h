//===- SafeTensors.h - memory-mapped safetensors checkpoints ----*- C++ -*-===//
#ifndef LLMC_RUNTIME_WEIGHTS_SAFETENSORS_H
#define LLMC_RUNTIME_WEIGHTS_SAFETENSORS_H

#include "runtime/support/MappedFile.h"

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace llmc::rt {

struct TensorView {
  std::string name;
  std::string dtype; // safetensors spelling: F32, F16, BF16, ...
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  size_t bytes = 0;
  std::string file;
};

/// All tensors of a checkpoint: one model.safetensors, or the shards listed
/// by model.safetensors.index.json. Files stay mapped while this lives.
class SafeTensors {
public:
  /// Opens the checkpoint in a Hugging Face model directory.
  static SafeTensors openDirectory(const std::string &dir);
  /// Opens one .safetensors file.
  static SafeTensors openFile(const std::string &path);

  const TensorView *find(const std::string &name) const;
  /// Every tensor's name, sorted.
  std::vector<std::string> names() const;
  /// The files, for messages.
  std::string describe() const;

private:
  /// Adds `path`'s tensors (only those in `only`, when given: the ones a
  /// sharded checkpoint's index names in this file, each of which it must
  /// hold).
  void addFile(const std::string &path,
               const std::set<std::string> *only = nullptr);

  std::vector<std::unique_ptr<MappedFile>> files_;
  std::unordered_map<std::string, TensorView> tensors_;
};

/// Bytes per element of a safetensors dtype, 0 if unknown.
size_t dtypeSize(const std::string &dtype);

/// Widens one element of F32/F16/BF16 data to float.
float loadAsFloat(const std::string &dtype, const uint8_t *p);
/// IEEE half (binary16 bits) to float.
float halfToFloat(uint16_t h);
/// Float to IEEE half, rounded to nearest even (overflow to infinity, NaN
/// kept a NaN).
uint16_t floatToHalf(float f);
/// Float to bfloat16, rounded to nearest even (NaN kept a NaN).
uint16_t floatToBFloat16(float f);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_WEIGHTS_SAFETENSORS_H
