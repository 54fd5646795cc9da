//===- Artifact.h - the llmc artifact's schema, shared by both halves -----===//
//
// What an artifact's manifest.json holds: versions, the step's inputs and
// dimensions, weight recipes, the KV layout and the launch plan. The
// compiler fills these structs and writes them (schema/ArtifactJson.h); the
// runtime reads them back with the same code. Header-only and LLVM-free:
// the runtime includes it (DESIGN contract 2), and so does the compiler.
// docs/artifact.md describes every field.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_SCHEMA_ARTIFACT_H
#define LLMC_SCHEMA_ARTIFACT_H

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmc::schema {

inline constexpr std::string_view kFormat = "llmc-artifact";
/// Version 3: the cuda target (arch, cubins, threads per launch); version 2
/// (kernels + launch plan, cpu only) is read too. Version 1 was one step
/// function.
inline constexpr int64_t kFormatVersion = 6;
/// How a cuda artifact's PTX names its manifest's binding digest: a last
/// line of this text and the digest. (A cpu artifact's library exports it
/// as the string llmc_manifest_digest.)
inline constexpr const char *kPtxDigestComment = "// llmc-manifest-digest: ";
inline constexpr const char *kLibraryDigestSymbol = "llmc_manifest_digest";
inline constexpr int64_t kOldestFormatVersion = 2;
/// The CPU kernel entry: `void llmc_kernel_<name>(void *const *args,
/// const int64_t *sizes, int64_t begin, int64_t end)`.
inline constexpr int64_t kCpuKernelAbiVersion = 1;
/// The CUDA kernel entry: `__global__ void llmc_kernel_<name>(void *b0,
/// ..., void *bN, int64_t s0, ..., int64_t sM)`: one device pointer per
/// buffer argument, then the sizes of the buffers' dynamic dimensions,
/// buffer after buffer; each thread computes work item blockIdx.x *
/// blockDim.x + threadIdx.x of the launch's extent.
inline constexpr int64_t kCudaKernelAbiVersion = 1;
inline constexpr std::string_view kKernelSymbolPrefix = "llmc_kernel_";
/// Alignment of every buffer in the packed weights and the arena.
inline constexpr int64_t kBufferAlignment = 64;

inline int64_t alignUp(int64_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

//===----------------------------------------------------------------------===//
// Enumerations and their manifest spellings
//===----------------------------------------------------------------------===//

enum class Target { Cpu, Cuda };
enum class DType { F32, I32, BF16, F16, I8 };
/// The step's inputs, in the order of the step function's operands.
enum class StepInput {
  TokenIds,
  Positions,
  SeqIds,
  SlotMapping,
  BlockTables,
  LogitsIndices
};
inline constexpr size_t kNumStepInputs = 6;
/// The sizes that vary from step to step: tokens T, rows that need logits R,
/// sequences S, block-table width B, KV blocks in the pool N.
enum class StepDim { Tokens, LogitsRows, Seqs, MaxBlocks, KvBlocks };
/// Where a launch argument lives.
enum class BufferSpace { Weights, Arena, Kv, Input, Output };
enum class WeightTransform { None, Transpose, Concat };
/// Plan entry kinds: a kernel launch, a collective over the
/// tensor-parallel group (args: input, output), or a pipeline stage's send
/// or receive (args: the buffer; `peer`: the other stage). Library calls
/// (cuBLASLt) and KV block copies are further kinds to come; a reader
/// refuses kinds it lacks.
enum class EntryKind { Launch, AllReduce, AllGather, Send, Recv };

template <typename E> struct EnumNames;
template <> struct EnumNames<Target> {
  static constexpr std::array<std::string_view, 2> names = {"cpu", "cuda"};
  static constexpr std::string_view what = "target";
};
template <> struct EnumNames<DType> {
  static constexpr std::array<std::string_view, 5> names = {
      "f32", "i32", "bf16", "f16", "i8"};
  static constexpr std::string_view what = "dtype";
};
template <> struct EnumNames<StepInput> {
  static constexpr std::array<std::string_view, kNumStepInputs> names = {
      "token_ids",    "positions",    "seq_ids",
      "slot_mapping", "block_tables", "logits_indices"};
  static constexpr std::string_view what = "step input";
};
template <> struct EnumNames<StepDim> {
  static constexpr std::array<std::string_view, 5> names = {
      "tokens", "logits_rows", "seqs", "max_blocks", "kv_blocks"};
  static constexpr std::string_view what = "step dimension";
};
template <> struct EnumNames<BufferSpace> {
  static constexpr std::array<std::string_view, 5> names = {
      "weights", "arena", "kv", "input", "output"};
  static constexpr std::string_view what = "buffer space";
};
template <> struct EnumNames<WeightTransform> {
  static constexpr std::array<std::string_view, 3> names = {"none", "transpose",
                                                            "concat"};
  static constexpr std::string_view what = "weight transform";
};
template <> struct EnumNames<EntryKind> {
  static constexpr std::array<std::string_view, 5> names = {
      "launch", "all_reduce", "all_gather", "send", "recv"};
  static constexpr std::string_view what = "plan entry kind";
};

template <typename E> std::string_view nameOf(E e) {
  return EnumNames<E>::names[static_cast<size_t>(e)];
}
template <typename E> std::optional<E> enumFromName(std::string_view s) {
  for (size_t i = 0; i < EnumNames<E>::names.size(); ++i)
    if (EnumNames<E>::names[i] == s)
      return static_cast<E>(i);
  return std::nullopt;
}

inline int64_t dtypeBytes(DType t) {
  switch (t) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::BF16:
  case DType::F16:
    return 2;
  case DType::I8:
    return 1;
  }
  return 0;
}

//===----------------------------------------------------------------------===//
// Structs
//===----------------------------------------------------------------------===//

/// One dimension: a static size, or a step dimension.
struct Dim {
  int64_t size = 0;
  std::optional<StepDim> symbol;

  static Dim of(int64_t n) { return Dim{n, std::nullopt}; }
  static Dim of(StepDim d) { return Dim{0, d}; }
  bool operator==(const Dim &o) const {
    return size == o.size && symbol == o.symbol;
  }
};

/// A tensor-parallel slice: part `index` of `count` equal parts along
/// `axis` of the (transformed) source tensor.
struct Shard {
  int64_t axis = 0;
  int64_t index = 0;
  int64_t count = 1;
  bool operator==(const Shard &o) const {
    return axis == o.axis && index == o.index && count == o.count;
  }
};

/// How one packed weight is made from checkpoint tensors.
struct WeightRecipe {
  std::string name;                 // the program's name for it
  std::vector<std::string> sources; // checkpoint names, first present wins
  WeightTransform transform = WeightTransform::None;
  std::vector<int64_t> shape; // packed shape
  DType dtype = DType::F32;
  int64_t offset = 0;              // bytes into the packed buffer (top level)
  std::vector<WeightRecipe> parts; // concat: stacked along dimension 0
  std::optional<Shard> shard;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  int64_t bytes() const { return elements() * dtypeBytes(dtype); }
  bool operator==(const WeightRecipe &o) const {
    return name == o.name && sources == o.sources && transform == o.transform &&
           shape == o.shape && dtype == o.dtype && offset == o.offset &&
           parts == o.parts && shard == o.shard;
  }
};

/// A launch argument: a dense row-major buffer in one of the spaces.
struct BufferRef {
  BufferSpace space = BufferSpace::Arena;
  int64_t offset = 0;                    // weights, arena: bytes
  int64_t cache = 0;                     // kv: which cache
  StepInput input = StepInput::TokenIds; // input: which one
  std::vector<Dim> shape;
  DType dtype = DType::F32;

  bool operator==(const BufferRef &o) const {
    return space == o.space && offset == o.offset && cache == o.cache &&
           input == o.input && shape == o.shape && dtype == o.dtype;
  }
};

/// How many work items a launch has: `scale`, times the step dimension
/// `dim` when present.
struct Extent {
  int64_t scale = 1;
  std::optional<StepDim> dim;
  bool operator==(const Extent &o) const {
    return scale == o.scale && dim == o.dim;
  }
};

/// One entry of the launch plan, run in order.
struct PlanEntry {
  EntryKind kind = EntryKind::Launch;
  std::string kernel; // launch: the kernel's name in program.kernels
  std::vector<BufferRef> args;
  Extent extent;                // launch: work items split over threads/blocks
  std::optional<int64_t> layer; // the model layer it belongs to, if any
  std::optional<int64_t> threads; // cuda: threads per block
  int64_t axis = 0;               // all_gather: the concatenated dimension
  int64_t peer = 0;               // send / recv: the other pipeline stage

  bool isPointToPoint() const {
    return kind == EntryKind::Send || kind == EntryKind::Recv;
  }
  bool operator==(const PlanEntry &o) const {
    return kind == o.kind && kernel == o.kernel && args == o.args &&
           extent == o.extent && layer == o.layer && threads == o.threads &&
           axis == o.axis && peer == o.peer;
  }
};

/// One paged KV cache: `[kv_blocks, block_size, kv_heads, head_dim]`. The
/// pool holds the caches one after another, each over all blocks.
struct KvCache {
  int64_t blockSize = 0;
  int64_t kvHeads = 0;
  int64_t headDim = 0;
  DType dtype = DType::F32;

  int64_t bytesPerBlock() const {
    return blockSize * kvHeads * headDim * dtypeBytes(dtype);
  }
  bool operator==(const KvCache &o) const {
    return blockSize == o.blockSize && kvHeads == o.kvHeads &&
           headDim == o.headDim && dtype == o.dtype;
  }
};

/// What the compiler knew about the model (imports from Hugging Face).
struct Model {
  std::string architecture;
  std::string dtype; // the checkpoint's, as config.json spells it
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 0;
  std::vector<int64_t> eosTokenIds;
  std::optional<int64_t> bosTokenId;

  bool operator==(const Model &o) const {
    return architecture == o.architecture && dtype == o.dtype &&
           hiddenSize == o.hiddenSize && numLayers == o.numLayers &&
           numHeads == o.numHeads && numKvHeads == o.numKvHeads &&
           headDim == o.headDim && vocabSize == o.vocabSize &&
           maxPositionEmbeddings == o.maxPositionEmbeddings &&
           eosTokenIds == o.eosTokenIds && bosTokenId == o.bosTokenId;
  }
};

/// The compiled kernels.
/// A cubin the kernels were assembled to for one GPU architecture.
struct Cubin {
  std::string arch;        // sm_90a, sm_80, ...
  std::string file;        // in the artifact directory
  std::string fingerprint; // fingerprint() of that file

  bool operator==(const Cubin &o) const {
    return arch == o.arch && file == o.file && fingerprint == o.fingerprint;
  }
};

struct Program {
  std::string library;     // file in the artifact directory (cpu: the
                           // shared library; cuda: the PTX)
  std::string fingerprint; // fingerprint() of that file
  int64_t abiVersion = kCpuKernelAbiVersion;
  std::vector<std::string> kernels; // distinct kernels, in first-use order
  std::vector<Cubin> cubins;        // cuda: assembled ahead of time

  bool operator==(const Program &o) const {
    return library == o.library && fingerprint == o.fingerprint &&
           abiVersion == o.abiVersion && kernels == o.kernels &&
           cubins == o.cubins;
  }
};

/// Bytes of one block summed over `caches`.
inline int64_t bytesPerBlock(const std::vector<KvCache> &caches) {
  int64_t n = 0;
  for (const KvCache &c : caches)
    n += c.bytesPerBlock();
  return n;
}

/// What differs between the ranks of a parallel artifact: each rank's plan,
/// its weights (shards) and its caches (its KV heads).
struct RankPart {
  int64_t arenaBytes = 0;
  std::vector<KvCache> kvCaches;
  int64_t weightsBytes = 0;
  std::vector<WeightRecipe> weights;
  std::vector<PlanEntry> plan;

  bool operator==(const RankPart &o) const {
    return arenaBytes == o.arenaBytes && kvCaches == o.kvCaches &&
           weightsBytes == o.weightsBytes && weights == o.weights &&
           plan == o.plan;
  }
};

struct Manifest {
  int64_t formatVersion = kFormatVersion;
  Target target = Target::Cpu;
  std::string cpu;  // the LLVM CPU of the kernels (cpu target)
  std::string arch; // the GPU architecture of the kernels (cuda target)
  std::optional<Model> model;
  std::string configJson; // the model's config.json, verbatim; may be empty
  Program program;
  int64_t maxBatchTokens = 0;
  int64_t maxSeqLen = 0;
  int64_t arenaBytes = 0;
  int64_t vocabSize = 0;
  std::vector<KvCache> kvCaches;
  int64_t weightsBytes = 0;
  std::vector<WeightRecipe> weights;
  std::vector<PlanEntry> plan;
  std::vector<std::string> tokenizerFiles;
  /// fingerprint() of the other files the runtime reads (tokenizer files),
  /// by name.
  std::map<std::string, std::string> fileFingerprints;
  /// Parallel artifacts: the degrees, every rank's part (rank r = pp stage
  /// r / tp, tensor-parallel rank r % tp), and which rank this manifest's
  /// own fields (arena, kv, weights, plan) are (forRank()).
  int64_t tp = 1, pp = 1;
  std::vector<RankPart> ranks;
  int64_t rank = 0;

  int64_t worldSize() const { return tp * pp; }
  /// This rank's pipeline stage and tensor-parallel rank.
  int64_t stage() const { return rank / tp; }
  int64_t tpRank() const { return rank % tp; }
  /// The world rank of pipeline stage `s`'s tensor-parallel rank `t`.
  int64_t rankOf(int64_t s, int64_t t) const { return s * tp + t; }
  /// Whether this rank's plan writes logits (a pipeline's last stage, or
  /// every rank without pipeline parallelism).
  bool producesLogits() const {
    for (const PlanEntry &e : plan)
      for (const BufferRef &b : e.args)
        if (b.space == BufferSpace::Output)
          return true;
    return false;
  }
  /// This manifest with rank `r`'s arena, caches, weights and plan.
  Manifest forRank(int64_t r) const {
    Manifest m = *this;
    if (ranks.empty())
      return m;
    m.setOwnPart(ranks.at(static_cast<size_t>(r)));
    m.rank = r;
    return m;
  }
  /// Makes `p` this manifest's own arena, caches, weights and plan.
  void setOwnPart(RankPart p) {
    arenaBytes = p.arenaBytes;
    kvCaches = std::move(p.kvCaches);
    weightsBytes = p.weightsBytes;
    weights = std::move(p.weights);
    plan = std::move(p.plan);
  }

  /// Bytes of one block summed over every cache.
  int64_t kvBytesPerBlock() const { return bytesPerBlock(kvCaches); }
  int64_t kvBlockSize() const {
    return kvCaches.empty() ? 0 : kvCaches.front().blockSize;
  }
  std::vector<int64_t> eosTokenIds() const {
    return model ? model->eosTokenIds : std::vector<int64_t>();
  }
  bool operator==(const Manifest &o) const {
    return formatVersion == o.formatVersion && target == o.target &&
           cpu == o.cpu && arch == o.arch && model == o.model &&
           configJson == o.configJson && program == o.program &&
           maxBatchTokens == o.maxBatchTokens && maxSeqLen == o.maxSeqLen &&
           arenaBytes == o.arenaBytes && vocabSize == o.vocabSize &&
           kvCaches == o.kvCaches && weightsBytes == o.weightsBytes &&
           weights == o.weights && plan == o.plan &&
           tokenizerFiles == o.tokenizerFiles &&
           fileFingerprints == o.fileFingerprints && tp == o.tp && pp == o.pp &&
           ranks == o.ranks && rank == o.rank;
  }
};

/// FNV-1a 64 of `data` as 16 hex digits: the corruption check of every
/// program file.
inline std::string fingerprint(const void *data, size_t size) {
  uint64_t h = 14695981039346656037ull;
  const auto *p = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx",
                static_cast<unsigned long long>(h));
  return out;
}

/// The exported symbol of kernel `name` in a CPU kernel library.
inline std::string kernelSymbol(std::string_view name) {
  return std::string(kKernelSymbolPrefix) + std::string(name);
}

} // namespace llmc::schema

#endif // LLMC_SCHEMA_ARTIFACT_H
