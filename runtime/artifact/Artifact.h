//===- Artifact.h - load an llmc artifact -----------------------*- C++ -*-===//
//
// Reads manifest.json, checks format and ABI versions and the step
// library's fingerprint, and binds the step function. See docs/artifact.md.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_ARTIFACT_ARTIFACT_H
#define LLMC_RUNTIME_ARTIFACT_ARTIFACT_H

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::rt {

constexpr int kArtifactFormatVersion = 1;
constexpr int kStepAbiVersion = 2;

/// A strided memref descriptor as MLIR's C interface passes it.
template <typename T, int N> struct MemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};

using StepFn = void (*)(MemRef<int32_t, 1> *tokenIds,
                        MemRef<int32_t, 1> *positions,
                        MemRef<int32_t, 1> *seqIds,
                        MemRef<int32_t, 1> *slotMapping,
                        MemRef<int32_t, 2> *blockTables,
                        MemRef<int32_t, 1> *logitsIndices,
                        MemRef<int8_t, 1> *weights, MemRef<int8_t, 1> *kvPool,
                        MemRef<int8_t, 1> *scratch, MemRef<float, 2> *logits,
                        int64_t threadIndex, int64_t numThreads);

struct WeightRecipe {
  std::string name;
  std::vector<std::string> sources; // first present wins
  std::string transform;            // none | transpose | concat
  std::vector<int64_t> shape;
  int64_t offset = 0;
  std::vector<WeightRecipe> parts; // concat: stacked along dimension 0

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

struct Manifest {
  int64_t vocabSize = 0;
  int64_t maxBatchTokens = 0;
  int64_t maxSeqLen = 0;
  int64_t arenaBytes = 0;
  int64_t kvBlockSize = 0;
  int64_t kvBytesPerBlock = 0;
  int64_t kvNumCaches = 0;
  int64_t weightsBytes = 0;
  std::vector<int64_t> eosTokenIds;
  std::vector<WeightRecipe> weights;
  std::vector<std::string> tokenizerFiles;
  std::string library;
  std::string entry;
  std::string fingerprint;
};

class Artifact {
public:
  /// Loads `dir`; throws rt::Error naming the file and field on any problem.
  explicit Artifact(const std::string &dir);
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  const Manifest &manifest() const { return manifest_; }
  const std::string &directory() const { return dir_; }
  StepFn step() const { return step_; }

private:
  std::string dir_;
  Manifest manifest_;
  void *handle_ = nullptr;
  StepFn step_ = nullptr;
};

/// Manifest parsing alone (for tests): `path` is used in messages.
Manifest parseManifest(const std::string &text, const std::string &path);

/// FNV-1a 64 of `data` as 16 hex digits, the artifact's fingerprint.
std::string fingerprint(const void *data, size_t size);

} // namespace llmc::rt

#endif // LLMC_RUNTIME_ARTIFACT_ARTIFACT_H
