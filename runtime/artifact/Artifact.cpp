//===- Artifact.cpp - load and check an llmc artifact ---------------------===//
#include "runtime/artifact/Artifact.h"
#include "runtime/support/Error.h"
#include "runtime/support/MappedFile.h"
#include "schema/ArtifactJson.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace llmc::rt {

using schema::BufferSpace;
using schema::Dim;
using schema::StepDim;
using schema::StepInput;

namespace {

std::string shapeStr(const std::vector<Dim> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += shape[i].symbol ? std::string(schema::nameOf(*shape[i].symbol))
                         : std::to_string(shape[i].size);
  }
  return s + "]";
}

/// The shape each step input has.
std::vector<Dim> inputShape(StepInput input) {
  switch (input) {
  case StepInput::BlockTables:
    return {Dim::of(StepDim::Seqs), Dim::of(StepDim::MaxBlocks)};
  case StepInput::LogitsIndices:
    return {Dim::of(StepDim::LogitsRows)};
  default:
    return {Dim::of(StepDim::Tokens)};
  }
}

} // namespace

void checkPlan(const Manifest &m, const std::string &path) {
  auto bad = [&](size_t entry, const std::string &what) {
    fail("{}: plan[{}]: {}", path, entry, what);
  };
  if (m.kvCaches.empty())
    fail("{}: field 'kv.caches': the step has no KV cache", path);
  for (const schema::KvCache &c : m.kvCaches)
    if (c.blockSize != m.kvBlockSize() || c.dtype == schema::DType::I32)
      fail("{}: field 'kv.caches': every cache must be f32, f16 or bf16 "
           "with one block size",
           path);
  // Recipes: sizes that cannot overflow, inside the buffer, aligned, and
  // not overlapping one another (each is written whole at load).
  auto checkShape = [&](const schema::WeightRecipe &w) {
    int64_t elems = 1;
    for (int64_t d : w.shape)
      if (d < 0 || d > (int64_t(1) << 32) ||
          (d > 0 && elems > (int64_t(1) << 48) / d))
        fail("{}: weight '{}': shape of more elements than any tensor can "
             "hold",
             path, w.name);
      else
        elems *= d;
  };
  std::vector<std::pair<int64_t, const schema::WeightRecipe *>> spans;
  for (const schema::WeightRecipe &w : m.weights) {
    checkShape(w);
    if (w.dtype == schema::DType::I32)
      fail("{}: weight '{}': dtype i32 is not a weight type (f32, bf16, f16)",
           path, w.name);
    // int8 rows are quantized from f32 parts.
    schema::DType partType =
        w.dtype == schema::DType::I8 ? schema::DType::F32 : w.dtype;
    for (const schema::WeightRecipe &p : w.parts) {
      checkShape(p);
      if (p.dtype != partType)
        fail("{}: weight '{}': part '{}' is {} but the weight needs {}", path,
             w.name, p.name, schema::nameOf(p.dtype), schema::nameOf(partType));
    }
    if (w.offset < 0 || w.offset % schema::kBufferAlignment != 0 ||
        w.offset + w.bytes() > m.weightsBytes)
      fail("{}: weight '{}' lies outside weights.bytes or is unaligned", path,
           w.name);
    spans.emplace_back(w.offset, &w);
  }
  std::sort(spans.begin(), spans.end(),
            [](const auto &a, const auto &b) { return a.first < b.first; });
  for (size_t i = 1; i < spans.size(); ++i) {
    const schema::WeightRecipe &prev = *spans[i - 1].second;
    if (prev.offset + prev.bytes() > spans[i].first)
      fail("{}: weights '{}' and '{}' overlap in the weight buffer", path,
           prev.name, spans[i].second->name);
  }
  if (m.plan.empty())
    fail("{}: field 'plan': no launches", path);
  for (size_t i = 0; i < m.plan.size(); ++i) {
    const schema::PlanEntry &e = m.plan[i];
    if (e.isPointToPoint()) {
      // A pipeline stage's send to the next stage or receive from the
      // previous one, of one arena buffer.
      bool send = e.kind == schema::EntryKind::Send;
      int64_t want = m.stage() + (send ? 1 : -1);
      if (m.pp < 2 || e.peer != want)
        bad(i, fmt::format("a {} with stage {} from stage {} of pp {} (a "
                           "stage sends to the next and receives from the "
                           "one before)",
                           schema::nameOf(e.kind), e.peer, m.stage(), m.pp));
      if (e.args.size() != 1 || e.args[0].space != BufferSpace::Arena)
        bad(i,
            fmt::format("a {} takes one arena buffer", schema::nameOf(e.kind)));
    } else if (e.kind != schema::EntryKind::Launch) {
      // A collective: input and output of one dtype, in the arena or the
      // output; all-gather's output `tp` times the input along `axis`.
      if (m.ranks.empty())
        bad(i, fmt::format("a {} in an artifact of one rank",
                           schema::nameOf(e.kind)));
      if (e.args.size() != 2)
        bad(i, "a collective takes two buffers (input, output)");
      for (const schema::BufferRef &b : e.args)
        if (b.space != BufferSpace::Arena && b.space != BufferSpace::Output)
          bad(i, "collectives read and write the arena or the logits");
      const auto &in = e.args[0].shape, &out = e.args[1].shape;
      bool shapesOk = in.size() == out.size();
      for (size_t d = 0; shapesOk && d < in.size(); ++d) {
        bool gathered = e.kind == schema::EntryKind::AllGather &&
                        static_cast<int64_t>(d) == e.axis;
        shapesOk = gathered ? !in[d].symbol && !out[d].symbol &&
                                  out[d].size == in[d].size * m.tp
                            : in[d] == out[d];
      }
      if (!shapesOk ||
          (e.kind == schema::EntryKind::AllGather &&
           (e.axis < 0 || e.axis >= static_cast<int64_t>(in.size()))))
        bad(i, fmt::format("{} of {} into {} (tp {})", schema::nameOf(e.kind),
                           shapeStr(in), shapeStr(out), m.tp));
    } else if (std::find(m.program.kernels.begin(), m.program.kernels.end(),
                         e.kernel) == m.program.kernels.end()) {
      bad(i, fmt::format("kernel '{}' is not in program.kernels", e.kernel));
    }
    if (e.extent.scale < 1)
      bad(i, "a launch needs at least one work item per step size");
    for (size_t a = 0; a < e.args.size(); ++a) {
      const schema::BufferRef &b = e.args[a];
      auto badArg = [&](const std::string &what) {
        bad(i, fmt::format("argument {} ({} {}): {}", a,
                           schema::nameOf(b.space), shapeStr(b.shape), what));
      };
      // The largest the buffer gets: token dimensions at the step budget.
      int64_t elems = 1;
      for (const Dim &d : b.shape) {
        if (!d.symbol) {
          elems *= d.size;
          continue;
        }
        if (*d.symbol != StepDim::Tokens && *d.symbol != StepDim::LogitsRows &&
            b.space != BufferSpace::Input && b.space != BufferSpace::Kv)
          badArg("only step inputs and KV caches vary with "
                 "sequences and blocks");
        elems *= m.maxBatchTokens;
      }
      int64_t bytes = elems * schema::dtypeBytes(b.dtype);
      switch (b.space) {
      case BufferSpace::Weights:
      case BufferSpace::Arena: {
        int64_t size =
            b.space == BufferSpace::Weights ? m.weightsBytes : m.arenaBytes;
        if (b.offset % schema::kBufferAlignment != 0)
          badArg(fmt::format("offset {} is not {}-byte aligned", b.offset,
                             schema::kBufferAlignment));
        if (b.offset + bytes > size)
          badArg(fmt::format("offset {} + {} bytes lies outside the {} bytes "
                             "of the space",
                             b.offset, bytes, size));
        if (b.space == BufferSpace::Weights)
          for (const Dim &d : b.shape)
            if (d.symbol)
              badArg("weights have static shapes");
        break;
      }
      case BufferSpace::Kv: {
        if (b.cache < 0 || b.cache >= static_cast<int64_t>(m.kvCaches.size()))
          badArg("no such KV cache");
        const schema::KvCache &c = m.kvCaches[b.cache];
        std::vector<Dim> want = {Dim::of(StepDim::KvBlocks),
                                 Dim::of(c.blockSize), Dim::of(c.kvHeads),
                                 Dim::of(c.headDim)};
        if (b.shape != want || b.dtype != c.dtype)
          badArg("does not match the cache's layout " + shapeStr(want));
        break;
      }
      case BufferSpace::Input:
        if (b.shape != inputShape(b.input) || b.dtype != schema::DType::I32)
          badArg(fmt::format("step input '{}' is i32 {}",
                             schema::nameOf(b.input),
                             shapeStr(inputShape(b.input))));
        break;
      case BufferSpace::Output: {
        std::vector<Dim> want = {Dim::of(StepDim::LogitsRows),
                                 Dim::of(m.vocabSize)};
        if (b.shape != want || b.dtype != schema::DType::F32)
          badArg("the logits are f32 " + shapeStr(want));
        break;
      }
      }
    }
  }
}

Manifest parseManifest(const std::string &text, const std::string &path) {
  Manifest m;
  try {
    m = schema::fromJsonText(text, path);
  } catch (const schema::Error &e) {
    throw Error(e.what());
  }
  checkPlan(m, path);
  for (size_t r = 0; r < m.ranks.size(); ++r)
    checkPlan(m.forRank(static_cast<int64_t>(r)),
              fmt::format("{} (rank {})", path, r));
  return m;
}

Artifact::Artifact(const std::string &dir, int64_t rank) : dir_(dir) {
  if (!fs::is_directory(dir))
    fail("{}: not an artifact directory (llmc -o writes one)", dir);
  std::string manifestPath = (fs::path(dir) / "manifest.json").string();
  if (!fs::exists(manifestPath))
    fail("{}: missing (not an llmc artifact?)", manifestPath);
  manifest_ = parseManifest(readFile(manifestPath), manifestPath);
  digest_ = schema::bindingDigest(manifest_);
  // Every other file the runtime reads is the one llmc wrote.
  for (const auto &[name, fp] : manifest_.fileFingerprints) {
    if (name.empty() || name.find('/') != std::string::npos || name == "..")
      fail("{}: field 'file_fingerprints': '{}' is not a file name in the "
           "artifact",
           manifestPath, name);
    fs::path file = fs::path(dir) / name;
    if (!fs::exists(file))
      fail("{}: missing (the manifest lists it)", file.string());
    MappedFile mapped(file.string());
    std::string got = schema::fingerprint(mapped.data(), mapped.size());
    if (got != fp)
      fail("{}: corrupt or replaced: fingerprint {} does not match the "
           "manifest's {}",
           file.string(), got, fp);
  }
  if (manifest_.formatVersion >= 5)
    for (const std::string &name : manifest_.tokenizerFiles)
      if (!manifest_.fileFingerprints.count(name))
        fail("{}: field 'file_fingerprints': no fingerprint for '{}'",
             manifestPath, name);
  if (rank < 0 || rank >= manifest_.worldSize())
    fail("{}: rank {} of an artifact built for {} rank(s) (--tp {} --pp {})",
         dir, rank, manifest_.worldSize(), manifest_.tp, manifest_.pp);
  manifest_ = manifest_.forRank(rank);
  const std::string &lib = manifest_.program.library;
  if (lib.empty() || lib.find('/') != std::string::npos)
    fail("{}: field 'program.library': '{}' is not a file name in the "
         "artifact",
         manifestPath, lib);
  std::string path = programPath();
  MappedFile program(path);
  std::string fp = schema::fingerprint(program.data(), program.size());
  if (fp != manifest_.program.fingerprint)
    fail("{}: corrupt or replaced: fingerprint {} does not match the "
         "manifest's {}",
         path, fp, manifest_.program.fingerprint);
}

void Artifact::checkBinding(const std::string &programDigest) const {
  if (programDigest.empty())
    fail("{}: names no manifest (built by an older llmc); recompile the "
         "model with this llmc",
         programPath());
  if (programDigest != digest_)
    fail("{}/manifest.json does not match {}: the program was built for "
         "manifest {} and this one is {} (manifest.json was edited, or the "
         "files come from different builds); recompile the model",
         dir_, programPath(), programDigest, digest_);
}

std::string Artifact::programPath() const {
  return (fs::path(dir_) / manifest_.program.library).string();
}

} // namespace llmc::rt
