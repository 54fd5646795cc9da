//===- Report.cpp - the compile report ------------------------------------===//
#include "llmc/Driver/Report.h"
#include "llmc/Target/CUDA/Emit.h"

#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Utils/CostModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace llmc {

std::optional<int64_t> layerOf(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc)) {
    int64_t l;
    StringRef name = n.getName().getValue();
    if (name.consume_front("layer.") && !name.getAsInteger(10, l))
      return l;
  }
  return std::nullopt;
}

namespace {

bool isCache(Value v) {
  auto ty = dyn_cast<ShapedType>(v.getType());
  return ty && ty.getRank() == 4 && ty.isDynamicDim(0);
}

/// The unfused ops a kernel op stands for.
SmallVector<StringRef> opsOf(Operation *op) {
  SmallVector<StringRef> ops;
  if (isa<tfm::QKVRopeCacheOp>(op))
    ops = {"linear", "split",          "rope",
           "rope",   "kv_cache_write", "kv_cache_write"};
  else if (isa<tfm::AddRMSNormOp>(op))
    ops = {"add", "rms_norm"};
  else if (isa<tfm::AddLayerNormOp>(op))
    ops = {"add", "layer_norm"};
  else if (auto l = dyn_cast<tfm::LinearOp>(op);
           l && l.getEpilogue() == tfm::Epilogue::SwiGLU)
    ops = {"linear", "split", "silu", "mul"};
  else if (l && l.getEpilogue() != tfm::Epilogue::None)
    ops = {"linear", "gelu"};
  else
    ops = {op->getName().stripDialect()};
  if (auto l = dyn_cast<tfm::LinearOp>(op); l && l.getResidual())
    ops.push_back("add");
  return ops;
}

/// Estimated bytes read and written by `op` for one token.
int64_t bytesOf(Operation *op) {
  int64_t bytes = 0;
  auto add = [&](Value v) {
    auto ty = cast<ShapedType>(v.getType());
    int64_t elem = (ty.getElementTypeBitWidth() + 7) / 8;
    if (isCache(v)) // one token's slot of the cache
      bytes += elem * ty.getDimSize(2) * ty.getDimSize(3);
    else
      bytes += elem * tfm::tokenElements(v);
  };
  for (Value v : op->getOperands())
    add(v);
  for (Value v : op->getResults())
    add(v);
  return bytes;
}

/// How the kernel's matrix weight is stored (f32, bf16, f16), or "" for a
/// kernel without one.
std::string weightFormatOf(Operation *op) {
  Value w;
  if (auto l = dyn_cast<tfm::LinearOp>(op))
    w = l.getWeight();
  else if (auto q = dyn_cast<tfm::QKVRopeCacheOp>(op))
    w = q.getWeight();
  else if (auto e = dyn_cast<tfm::EmbeddingOp>(op))
    w = e.getTable();
  if (!w)
    return "";
  std::string s;
  llvm::raw_string_ostream(s) << cast<ShapedType>(w.getType()).getElementType();
  return s;
}

/// The one tfm op a kernel holds (before it is lowered).
Operation *kernelOp(func::FuncOp kernel) {
  Operation *found = nullptr;
  kernel.walk([&](Operation *op) {
    if (isa<tfm::TransformerDialect>(op->getDialect()))
      found = op;
  });
  return found;
}

llvm::json::Object configOf(Operation *op) {
  auto c =
      tfm::dialect(op->getContext()).getKernelConfigAttrHelper().getAttr(op);
  if (!c)
    return {};
  llvm::json::Object out{
      {"parallel", tfm::stringifyParallelDim(c.getParallel()).str()},
      {"vector_width", c.getVectorWidth()},
      {"row_block", c.getRowBlock()},
      {"channel_block", c.getChannelBlock()},
      {"tile_rows", c.getTileRows()}};
  if (auto cuda = dyn_cast<tfm::CUDAKernelConfigAttr>(c)) {
    out["strategy"] = tfm::stringifyCUDAStrategy(cuda.getStrategy()).str();
    out["threads"] = cuda.getThreads();
  }
  return out;
}

} // namespace

llvm::json::Object buildReport(ModuleOp module) {
  llvm::json::Array kernels;
  llvm::DenseMap<int64_t, int64_t> perLayer;
  int64_t launches = 0, weightsBytes = 0, arenaBytes = 0, kvBytesPerToken = 0;
  llvm::StringSet<> distinct;
  SymbolTable symbols(module);
  for (auto program : module.getOps<plan::ProgramOp>()) {
    weightsBytes = program.getWeightsBytes();
    arenaBytes = program.getArenaBytes();
    for (Attribute a : program.getKvCaches()) {
      auto ty = cast<RankedTensorType>(cast<TypeAttr>(a).getValue());
      kvBytesPerToken += (ty.getElementTypeBitWidth() / 8) * ty.getDimSize(2) *
                         ty.getDimSize(3);
    }
    for (auto launch : program.getBlock().getOps<plan::LaunchOp>()) {
      ++launches;
      distinct.insert(launch.getKernel().getLeafReference());
      std::optional<int64_t> layer = layerOf(launch.getLoc());
      if (layer)
        ++perLayer[*layer];
      auto kernel = dyn_cast_or_null<func::FuncOp>(
          SymbolTable::lookupSymbolIn(symbols.getOp(), launch.getKernel()));
      Operation *op = kernel ? kernelOp(kernel) : nullptr;
      llvm::json::Array ops;
      llvm::json::Object entry{
          {"kernel", launch.getKernel().getLeafReference().str()},
          {"layer", layer ? llvm::json::Value(*layer) : nullptr}};
      std::string extent;
      {
        plan::ExtentAttr e = launch.getExtent();
        extent = e.getDim() ? (e.getScale() == 1
                                   ? ""
                                   : std::to_string(e.getScale()) + " x ") +
                                  std::string(schema::nameOf(*e.getDim()))
                            : std::to_string(e.getScale());
      }
      entry["work_items"] = extent;
      if (op) {
        for (StringRef o : opsOf(op))
          ops.push_back(o.str());
        entry["name"] = op->getName().stripDialect().str();
        entry["config"] = configOf(op);
        entry["bytes_moved"] = bytesOf(op);
        entry["flops"] = tfm::flopsPerToken(op);
        if (std::string f = weightFormatOf(op); !f.empty())
          entry["weight_format"] = f;
      }
      entry["ops"] = std::move(ops);
      kernels.push_back(std::move(entry));
    }
  }
  // Every layer has the same kernels; report the largest count.
  int64_t kernelsPerLayer = 0;
  for (auto &[layer, n] : perLayer)
    kernelsPerLayer = std::max(kernelsPerLayer, n);
  tfm::ArenaAttr arena =
      tfm::dialect(module.getContext()).getArenaAttrHelper().getAttr(module);
  return llvm::json::Object{
      {"kernels_per_layer", perLayer.empty()
                                ? llvm::json::Value(nullptr)
                                : llvm::json::Value(kernelsPerLayer)},
      {"launches_per_step", launches},
      {"distinct_kernels", static_cast<int64_t>(distinct.size())},
      {"arena_bytes", arenaBytes},
      {"naive_arena_bytes", arena ? arena.getNaiveBytes() : 0},
      {"weights_bytes", weightsBytes},
      {"kv_bytes_per_token", kvBytesPerToken},
      {"kernels", std::move(kernels)}};
}

void addPtxasInfo(llvm::json::Object &report, const CUDABinary &binary) {
  llvm::json::Object kernels;
  for (const auto &[name, k] : binary.kernels)
    kernels[name] = llvm::json::Object{{"registers", k.registers},
                                       {"spill_stores", k.spillStores},
                                       {"spill_loads", k.spillLoads},
                                       {"stack_bytes", k.stackBytes}};
  report["ptxas"] = llvm::json::Object{
      {"path", binary.ptxasPath.empty() ? llvm::json::Value(nullptr)
                                        : llvm::json::Value(binary.ptxasPath)},
      {"kernels", std::move(kernels)}};
}

void printKernels(const llvm::json::Object &report, llvm::raw_ostream &os) {
  os << llvm::formatv(
      "{0,4}  {1,-5}  {2,-20}  {3,-42}  {4,-15}  {5,-7}  {6,12}  {7,12}\n", "#",
      "layer", "kernel", "fuses", "parallel", "weights", "flops/token",
      "bytes/token");
  const llvm::json::Array *kernels = report.getArray("kernels");
  for (size_t i = 0; kernels && i < kernels->size(); ++i) {
    const llvm::json::Object *k = (*kernels)[i].getAsObject();
    std::string ops;
    for (const llvm::json::Value &o : *k->getArray("ops"))
      ops += (ops.empty() ? "" : "+") + o.getAsString()->str();
    std::string layer =
        k->getInteger("layer") ? std::to_string(*k->getInteger("layer")) : "-";
    std::string parallel;
    if (const llvm::json::Object *c = k->getObject("config"))
      if (auto p = c->getString("parallel"))
        parallel = p->str();
    std::string format = k->getString("weight_format")
                             ? k->getString("weight_format")->str()
                             : "-";
    os << llvm::formatv(
        "{0,4}  {1,-5}  {2,-20}  {3,-42}  {4,-15}  {5,-7}  {6,12}  {7,12}\n", i,
        layer, *k->getString("kernel"), ops, parallel, format,
        k->getInteger("flops").value_or(0),
        k->getInteger("bytes_moved").value_or(0));
  }
  auto num = [&](llvm::StringRef key) {
    auto v = report.getInteger(key);
    return v ? std::to_string(*v) : std::string("n/a");
  };
  os << "kernels per layer: " << num("kernels_per_layer")
     << ", launches per step: " << num("launches_per_step")
     << ", distinct kernels: " << num("distinct_kernels")
     << "\narena: " << num("arena_bytes")
     << " bytes (naive: " << num("naive_arena_bytes")
     << "), weights: " << num("weights_bytes")
     << " bytes, KV: " << num("kv_bytes_per_token") << " bytes/token\n";
  if (const llvm::json::Object *ptxas = report.getObject("ptxas")) {
    const llvm::json::Object *kernels = ptxas->getObject("kernels");
    if (!kernels || kernels->empty()) {
      os << "ptxas: not found (PTX only)\n";
      return;
    }
    os << llvm::formatv("{0,-36}  {1,9}  {2,12}  {3,11}\n", "ptxas: entry",
                        "registers", "spill bytes", "stack bytes");
    for (const auto &[name, v] : *kernels) {
      const llvm::json::Object *k = v.getAsObject();
      os << llvm::formatv("{0,-36}  {1,9}  {2,12}  {3,11}\n", name.str(),
                          k->getInteger("registers").value_or(0),
                          k->getInteger("spill_stores").value_or(0) +
                              k->getInteger("spill_loads").value_or(0),
                          k->getInteger("stack_bytes").value_or(0));
    }
  }
}

} // namespace llmc
