//===- ArtifactWriter.cpp - the plan module -> an artifact directory ------===//
#include "llmc/Driver/ArtifactWriter.h"

#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Driver/Report.h"
#include "llmc/Target/CPU/Emit.h"
#include "llmc/Target/CUDA/Emit.h"
#include "schema/ArtifactJson.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;

namespace llmc {

namespace {

llvm::Error error(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

std::string str(StringRef s) { return s.str(); }

llvm::Expected<schema::DType> dtypeOf(Type t) {
  if (t.isF32())
    return schema::DType::F32;
  if (t.isInteger(32))
    return schema::DType::I32;
  if (t.isBF16())
    return schema::DType::BF16;
  if (t.isF16())
    return schema::DType::F16;
  if (t.isInteger(8))
    return schema::DType::I8;
  std::string s;
  llvm::raw_string_ostream(s) << t;
  return error("element type " + s +
               " has no artifact dtype (f32, i32, bf16, f16, i8)");
}

llvm::Expected<schema::WeightRecipe> recipeOf(tfm::WeightRecipeAttr r,
                                              int64_t offset) {
  schema::WeightRecipe w;
  w.name = r.getName().str();
  for (StringRef s : r.getSourceNames())
    w.sources.push_back(s.str());
  StringRef transform = tfm::stringifyWeightTransform(r.getTransform());
  w.transform = *schema::enumFromName<schema::WeightTransform>(
      std::string_view(transform.data(), transform.size()));
  w.shape.assign(r.getType().getShape().begin(), r.getType().getShape().end());
  auto dtype = dtypeOf(r.getType().getElementType());
  if (!dtype)
    return dtype.takeError();
  w.dtype = *dtype;
  w.offset = offset;
  for (Attribute a : r.getParts()) {
    auto part = recipeOf(cast<tfm::WeightRecipeAttr>(a), 0);
    if (!part)
      return part.takeError();
    w.parts.push_back(std::move(*part));
  }
  if (tfm::ShardAttr s = r.getShard())
    w.shard = schema::Shard{s.getAxis(), s.getIndex(), s.getCount()};
  return w;
}

llvm::Expected<schema::BufferRef> bufferOf(plan::BufferAttr b) {
  schema::BufferRef ref;
  ref.space = b.getSpace();
  switch (ref.space) {
  case schema::BufferSpace::Weights:
  case schema::BufferSpace::Arena:
    ref.offset = b.getIndex();
    break;
  case schema::BufferSpace::Kv:
    ref.cache = b.getIndex();
    break;
  case schema::BufferSpace::Input:
    ref.input = static_cast<schema::StepInput>(b.getIndex());
    break;
  case schema::BufferSpace::Output:
    break;
  }
  auto dtype = dtypeOf(b.getType().getElementType());
  if (!dtype)
    return dtype.takeError();
  ref.dtype = *dtype;
  size_t next = 0;
  for (int64_t d : b.getType().getShape())
    ref.shape.push_back(ShapedType::isDynamic(d)
                            ? schema::Dim::of(b.getDims()[next++])
                            : schema::Dim::of(d));
  return ref;
}

} // namespace

/// One program's arena, caches, weights and plan; its kernels are added
/// to `program.kernels` in first-use order.
static llvm::Error rankPartOf(plan::ProgramOp program, schema::RankPart &p,
                              schema::Program &prog, llvm::StringSet<> &seen) {
  p.arenaBytes = program.getArenaBytes();
  p.weightsBytes = program.getWeightsBytes();
  for (Attribute a : program.getKvCaches()) {
    auto t = cast<RankedTensorType>(cast<TypeAttr>(a).getValue());
    auto dtype = dtypeOf(t.getElementType());
    if (!dtype)
      return dtype.takeError();
    p.kvCaches.push_back(schema::KvCache{t.getDimSize(1), t.getDimSize(2),
                                         t.getDimSize(3), *dtype});
  }
  for (Attribute a : program.getWeights()) {
    auto w = cast<plan::WeightAttr>(a);
    auto recipe = recipeOf(w.getRecipe(), w.getOffset());
    if (!recipe)
      return recipe.takeError();
    p.weights.push_back(std::move(*recipe));
  }
  auto addArgs = [](schema::PlanEntry &e, ArrayAttr args) -> llvm::Error {
    for (Attribute a : args) {
      auto ref = bufferOf(cast<plan::BufferAttr>(a));
      if (!ref)
        return ref.takeError();
      e.args.push_back(std::move(*ref));
    }
    return llvm::Error::success();
  };
  for (Operation &op : program.getBlock()) {
    schema::PlanEntry e;
    e.layer = layerOf(op.getLoc());
    if (auto c = dyn_cast<plan::CollectiveOp>(op)) {
      StringRef kind = c.getKind();
      e.kind = *schema::enumFromName<schema::EntryKind>(
          std::string_view(kind.data(), kind.size()));
      e.axis = c.getAxis().value_or(0);
      e.peer = c.getPeer().value_or(0);
      if (llvm::Error err = addArgs(e, c.getArgs()))
        return err;
      p.plan.push_back(std::move(e));
      continue;
    }
    auto launch = cast<plan::LaunchOp>(op);
    e.kind = schema::EntryKind::Launch;
    // A GPU target launches the kernel's entry (llmc_kernel_<name>); the
    // manifest names the kernel.
    llvm::StringRef name = launch.getKernel().getLeafReference().getValue();
    name.consume_front(schema::kKernelSymbolPrefix);
    e.kernel = name.str();
    if (std::optional<int64_t> t = launch.getThreads())
      e.threads = *t;
    if (seen.insert(e.kernel).second)
      prog.kernels.push_back(e.kernel);
    plan::ExtentAttr extent = launch.getExtent();
    e.extent = schema::Extent{extent.getScale(), extent.getDim()};
    if (llvm::Error err = addArgs(e, launch.getArgs()))
      return err;
    p.plan.push_back(std::move(e));
  }
  return llvm::Error::success();
}

llvm::Expected<schema::Manifest> manifestFromPlan(ModuleOp module) {
  auto programs = llvm::to_vector(module.getOps<plan::ProgramOp>());
  if (programs.empty())
    return error("expected a plan.program, found none");
  schema::Manifest m;
  m.target = schema::Target::Cpu;
  // A parallel build has one program per rank, @rank_<r>, in rank order.
  if (programs.size() > 1)
    for (auto [r, program] : llvm::enumerate(programs))
      if (program.getSymName() != ("rank_" + llvm::Twine(r)).str())
        return error("plan.program @" + program.getSymName() +
                     " is not @rank_" + llvm::Twine(r) +
                     " (one program per rank, in rank order)");
  llvm::StringSet<> seen;
  std::vector<schema::RankPart> parts(programs.size());
  for (auto [program, p] : llvm::zip(programs, parts))
    if (llvm::Error e = rankPartOf(program, p, m.program, seen))
      return std::move(e);
  m.maxBatchTokens = programs.front().getMaxTokens();
  // Pipeline stages but the last have no logits (vocab 0).
  for (plan::ProgramOp program : programs)
    m.vocabSize = std::max<int64_t>(m.vocabSize, program.getVocabSize());
  m.setOwnPart(parts.front());
  if (parts.size() > 1)
    m.ranks = std::move(parts);
  if (tfm::ModelAttr model = tfm::dialect(module.getContext())
                                 .getModelAttrHelper()
                                 .getAttr(module)) {
    schema::Model md;
    md.architecture = str(model.getArchitecture());
    md.dtype = str(model.getDtype());
    md.hiddenSize = model.getHiddenSize();
    md.numLayers = model.getNumLayers();
    md.numHeads = model.getNumHeads();
    md.numKvHeads = model.getNumKvHeads();
    md.headDim = model.getHeadDim();
    md.vocabSize = model.getVocabSize();
    md.maxPositionEmbeddings = model.getMaxPositionEmbeddings();
    md.eosTokenIds.assign(model.getEosTokenIds().asArrayRef().begin(),
                          model.getEosTokenIds().asArrayRef().end());
    md.bosTokenId = model.getBosTokenId();
    m.model = std::move(md);
  }
  return m;
}

namespace {

/// Copies the model directory's tokenizer and config files and writes
/// manifest.json.
llvm::Error finishArtifact(schema::Manifest &m,
                           const ArtifactOptions &options) {
  if (!options.modelDir.empty()) {
    for (const char *name :
         {"tokenizer.json", "tokenizer.model", "tokenizer_config.json",
          "chat_template.jinja", "generation_config.json", "config.json"}) {
      llvm::SmallString<256> src(options.modelDir), dst(options.outputDir);
      llvm::sys::path::append(src, name);
      llvm::sys::path::append(dst, name);
      if (!llvm::sys::fs::exists(src))
        continue;
      if (std::error_code ec = llvm::sys::fs::copy_file(src, dst))
        return error(dst + ": cannot copy: " + ec.message());
      auto copied = llvm::MemoryBuffer::getFile(dst);
      if (!copied)
        return error(dst + ": cannot read back");
      m.fileFingerprints[name] = schema::fingerprint(
          (*copied)->getBufferStart(), (*copied)->getBufferSize());
      if (llvm::StringRef(name).starts_with("tokenizer") ||
          llvm::StringRef(name) == "chat_template.jinja")
        m.tokenizerFiles.push_back(name);
      if (llvm::StringRef(name) == "config.json")
        if (auto text = llvm::MemoryBuffer::getFile(src))
          m.configJson = (*text)->getBuffer().str();
    }
  }

  llvm::SmallString<256> path(options.outputDir);
  llvm::sys::path::append(path, "manifest.json");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return error(path + ": cannot write: " + ec.message());
  os << schema::toJsonText(m);
  return llvm::Error::success();
}

} // namespace

/// Strips what only the compiler reads: the plan and the tfm/plan
/// attributes.
static void stripPlan(ModuleOp module) {
  for (auto program : llvm::to_vector(module.getOps<plan::ProgramOp>()))
    program.erase();
  module->walk([](Operation *op) {
    for (NamedAttribute a : llvm::to_vector(op->getDiscardableAttrs()))
      if (a.getName().getValue().starts_with("tfm.") ||
          a.getName().getValue().starts_with("plan."))
        op->removeDiscardableAttr(a.getName());
  });
}

/// Writes `data` to `name` in the artifact; returns its fingerprint.
static llvm::Expected<std::string> writeFile(const ArtifactOptions &options,
                                             llvm::StringRef name,
                                             llvm::StringRef data) {
  llvm::SmallString<256> path(options.outputDir);
  llvm::sys::path::append(path, name);
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return error(path + ": cannot write: " + ec.message());
  os << data;
  return schema::fingerprint(data.data(), data.size());
}

llvm::Error writeCPUArtifact(ModuleOp module, const ArtifactOptions &options) {
  auto manifest = manifestFromPlan(module);
  if (!manifest)
    return manifest.takeError();
  schema::Manifest &m = *manifest;
  m.cpu = options.cpu;
  m.maxSeqLen = options.maxSeqLen;
  m.tp = options.tp;
  m.pp = options.pp;

  // What is left for LLVM: the kernels alone.
  stripPlan(module);

  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir))
    return error(options.outputDir + ": cannot create: " + ec.message());
  m.program.library = "libkernels.so";
  m.program.abiVersion = schema::kCpuKernelAbiVersion;
  llvm::SmallString<256> soPath(options.outputDir);
  llvm::sys::path::append(soPath, m.program.library);
  if (llvm::Error e =
          compileKernelLibrary(module, soPath, options.cpu,
                               /*optLevel=*/3, schema::bindingDigest(m)))
    return e;
  auto so = llvm::MemoryBuffer::getFile(soPath);
  if (!so)
    return error(soPath + ": cannot read back");
  m.program.fingerprint =
      schema::fingerprint((*so)->getBufferStart(), (*so)->getBufferSize());

  return finishArtifact(m, options);
}

} // namespace llmc

namespace llmc {

llvm::Error writeCUDAArtifact(ModuleOp module, const ArtifactOptions &options,
                              CUDABinary *binary) {
  auto manifest = manifestFromPlan(module);
  if (!manifest)
    return manifest.takeError();
  schema::Manifest &m = *manifest;
  m.target = schema::Target::Cuda;
  m.arch = options.arch;
  m.maxSeqLen = options.maxSeqLen;
  m.tp = options.tp;
  m.pp = options.pp;
  std::vector<const std::vector<schema::PlanEntry> *> plans = {&m.plan};
  for (const schema::RankPart &p : m.ranks)
    plans.push_back(&p.plan);
  for (const std::vector<schema::PlanEntry> *plan : plans)
    for (const schema::PlanEntry &e : *plan)
      if (e.kind == schema::EntryKind::Launch && !e.threads)
        return error("plan entry for kernel '" + e.kernel +
                     "' has no threads per block (not lowered for CUDA?)");

  stripPlan(module);
  llvm::Expected<CUDABinary> compiled =
      compileCUDAKernels(module, options.arch);
  if (!compiled)
    return compiled.takeError();
  m.program.library = "kernels.ptx";
  m.program.abiVersion = schema::kCudaKernelAbiVersion;
  // The PTX names the manifest it was built for (the cubins are checked
  // by their fingerprints and architecture).
  compiled->ptx += std::string("\n") + schema::kPtxDigestComment +
                   schema::bindingDigest(m) + "\n";
  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir))
    return error(options.outputDir + ": cannot create: " + ec.message());
  auto ptx = writeFile(options, m.program.library, compiled->ptx);
  if (!ptx)
    return ptx.takeError();
  m.program.fingerprint = *ptx;
  if (compiled->cubin) {
    schema::Cubin c;
    c.arch = options.arch;
    c.file = "kernels." + options.arch + ".cubin";
    auto fp = writeFile(options, c.file, *compiled->cubin);
    if (!fp)
      return fp.takeError();
    c.fingerprint = *fp;
    m.program.cubins.push_back(std::move(c));
  }
  if (binary)
    *binary = std::move(*compiled);
  return finishArtifact(m, options);
}

} // namespace llmc
