//===- Report.cpp - the compile report ------------------------------------===//
#include "llmc/Driver/Report.h"

#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace llmc {
namespace {

/// Elements of `v` for one token (dynamic dimensions taken as 1).
int64_t tokenElems(Value v) {
  auto ty = dyn_cast<RankedTensorType>(v.getType());
  if (!ty)
    return 0;
  int64_t n = 1;
  for (int64_t d : ty.getShape())
    n *= ShapedType::isDynamic(d) ? 1 : d;
  return n;
}

bool isCache(Value v) {
  auto ty = dyn_cast<RankedTensorType>(v.getType());
  return ty && ty.getRank() == 4 && ty.isDynamicDim(0);
}

/// The unfused ops a kernel stands for, but a residual add.
SmallVector<StringRef> opsOfEpilogue(Operation *op) {
  if (isa<tfm::QKVRopeCacheOp>(op))
    return {"linear", "split",          "rope",
            "rope",   "kv_cache_write", "kv_cache_write"};
  if (isa<tfm::AddRMSNormOp>(op))
    return {"add", "rms_norm"};
  if (isa<tfm::AddLayerNormOp>(op))
    return {"add", "layer_norm"};
  if (auto l = dyn_cast<tfm::LinearOp>(op)) {
    switch (l.getEpilogue()) {
    case tfm::Epilogue::SwiGLU:
      return {"linear", "split", "silu", "mul"};
    case tfm::Epilogue::GELU:
    case tfm::Epilogue::GELUTanh:
      return {"linear", "gelu"};
    case tfm::Epilogue::None:
      break;
    }
  }
  return {op->getName().stripDialect()};
}

/// The unfused ops a kernel stands for.
SmallVector<StringRef> opsOf(Operation *op) {
  SmallVector<StringRef> ops = opsOfEpilogue(op);
  if (auto l = dyn_cast<tfm::LinearOp>(op); l && l.getResidual())
    ops.push_back("add");
  return ops;
}

/// How convert-tfm-to-loops runs the kernel: the dimension split across
/// threads, the loop order, and what LLVM vectorizes (for the --cpu
/// target's vector width).
llvm::json::Object scheduleOf(Operation *op) {
  StringRef parallel = "rows", order = "rows, columns", vector = "columns";
  std::string tiling = "none";
  if (isa<tfm::LinearOp>(op)) {
    parallel = "output channels";
    order = "token tiles, output channel blocks, token row blocks, k";
    vector = "k (reduction)";
    if (auto s = op->getAttrOfType<DictionaryAttr>("llmc.schedule"))
      tiling = llvm::formatv("{0} token rows x {1} output channels per pass, "
                             "{2}-row cache tiles",
                             s.getAs<IntegerAttr>("row_block").getInt(),
                             s.getAs<IntegerAttr>("channel_block").getInt(),
                             s.getAs<IntegerAttr>("tile_rows").getInt())
                   .str();
  } else if (isa<tfm::QKVRopeCacheOp>(op)) {
    parallel = "query heads, then kv heads";
    order = "heads, tokens, head channels, k";
    vector = "k (reduction)";
  } else if (isa<tfm::AttentionOp>(op)) {
    parallel = "heads";
    order = "tokens, heads, keys (two passes), head_dim";
    vector = "head_dim (reduction)";
  } else if (isa<tfm::RoPEOp>(op)) {
    parallel = "heads";
    order = "tokens, heads, pairs";
  } else if (isa<tfm::MatmulOp>(op)) {
    parallel = "n";
    order = "batch, m, n, k";
    vector = "k (reduction)";
  } else if (isa<tfm::GatherLastTokensOp>(op)) {
    parallel = "columns";
  }
  return llvm::json::Object{{"parallel", parallel.str()},
                            {"loop_order", order.str()},
                            {"vectorized", vector.str()},
                            {"tiling", tiling}};
}

/// Estimated flops of `op` for one token and one key in context.
int64_t flopsOf(Operation *op) {
  if (auto l = dyn_cast<tfm::LinearOp>(op)) {
    auto w = l.getWeight().getType();
    return 2 * w.getDimSize(0) * w.getDimSize(1);
  }
  if (auto q = dyn_cast<tfm::QKVRopeCacheOp>(op)) {
    auto w = q.getWeight().getType();
    return 2 * w.getDimSize(0) * w.getDimSize(1) + 6 * tokenElems(q.getQuery());
  }
  if (auto a = dyn_cast<tfm::AttentionOp>(op))
    return 4 * tokenElems(a.getQuery());
  if (auto m = dyn_cast<tfm::MatmulOp>(op)) {
    auto lhs = m.getLhs().getType();
    return 2 * tokenElems(m.getResult()) * lhs.getDimSize(lhs.getRank() - 1);
  }
  if (isa<tfm::EmbeddingOp, tfm::GatherLastTokensOp, tfm::KVCacheWriteOp,
          tfm::SplitOp, tfm::SliceOp, tfm::ConcatOp, tfm::TransposeOp>(op))
    return 0;
  int64_t out = 0;
  for (Value r : op->getResults())
    out += tokenElems(r);
  return (isa<tfm::RMSNormOp, tfm::LayerNormOp, tfm::AddRMSNormOp,
              tfm::AddLayerNormOp, tfm::SoftmaxOp, tfm::RoPEOp>(op)
              ? 5
              : 1) *
         out;
}

/// Estimated bytes read and written by `op` for one token.
int64_t bytesOf(Operation *op) {
  int64_t bytes = 0;
  auto add = [&](Value v) {
    if (isCache(v)) // one token's slot of the cache
      bytes += 4 * cast<RankedTensorType>(v.getType()).getDimSize(2) *
               cast<RankedTensorType>(v.getType()).getDimSize(3);
    else
      bytes += 4 * tokenElems(v);
  };
  for (Value v : op->getOperands())
    add(v);
  for (Value v : op->getResults())
    add(v);
  return bytes;
}

std::optional<int64_t> layerOf(Operation *op) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc())) {
    int64_t l;
    StringRef name = n.getName().getValue();
    if (name.consume_front("layer.") && !name.getAsInteger(10, l))
      return l;
  }
  return std::nullopt;
}

} // namespace

llvm::json::Object buildReport(ModuleOp module) {
  llvm::json::Array kernels;
  llvm::DenseMap<int64_t, int64_t> perLayer;
  int64_t launches = 0, weightsBytes = 0, kvBytesPerToken = 0;
  if (auto step = module.lookupSymbol<func::FuncOp>("step")) {
    // Packed weights: each name once, 64-byte aligned like the lowering.
    llvm::StringSet<> seen;
    step.walk([&](tfm::WeightOp w) {
      if (seen.insert(w.getName()).second)
        weightsBytes +=
            (w.getType().getNumElements() * 4 + tfm::kBufferAlignment - 1) /
            tfm::kBufferAlignment * tfm::kBufferAlignment;
    });
    for (BlockArgument arg : step.getArguments())
      if (isCache(arg)) {
        auto ty = cast<RankedTensorType>(arg.getType());
        kvBytesPerToken += 4 * ty.getDimSize(2) * ty.getDimSize(3);
      }
    for (Operation &op : step.getBody().front().without_terminator()) {
      if (isa<tfm::WeightOp, tfm::ReshapeOp>(op))
        continue;
      ++launches;
      std::optional<int64_t> layer = layerOf(&op);
      if (layer)
        ++perLayer[*layer];
      llvm::json::Array ops;
      for (StringRef o : opsOf(&op))
        ops.push_back(o.str());
      kernels.push_back(llvm::json::Object{
          {"name", op.getName().stripDialect().str()},
          {"layer", layer ? llvm::json::Value(*layer) : nullptr},
          {"ops", std::move(ops)},
          {"schedule", scheduleOf(&op)},
          {"bytes_moved", bytesOf(&op)},
          {"flops", flopsOf(&op)}});
    }
  }
  auto intAttr = [&](StringRef name) -> int64_t {
    auto a = module->getAttrOfType<IntegerAttr>(name);
    return a ? a.getInt() : 0;
  };
  // Every layer has the same kernels; report the largest count.
  int64_t kernelsPerLayer = 0;
  for (auto &[layer, n] : perLayer)
    kernelsPerLayer = std::max(kernelsPerLayer, n);
  return llvm::json::Object{
      {"kernels_per_layer", perLayer.empty()
                                ? llvm::json::Value(nullptr)
                                : llvm::json::Value(kernelsPerLayer)},
      {"launches_per_step", launches},
      {"arena_bytes", intAttr("llmc.arena_bytes")},
      {"naive_arena_bytes", intAttr("llmc.naive_arena_bytes")},
      {"weights_bytes", weightsBytes},
      {"kv_bytes_per_token", kvBytesPerToken},
      {"kernels", std::move(kernels)}};
}

void printKernels(const llvm::json::Object &report, llvm::raw_ostream &os) {
  os << llvm::formatv("{0,4}  {1,-5}  {2,-18}  {3,-42}  {4,12}  {5,12}\n", "#",
                      "layer", "kernel", "fuses", "flops/token", "bytes/token");
  const llvm::json::Array *kernels = report.getArray("kernels");
  for (size_t i = 0; kernels && i < kernels->size(); ++i) {
    const llvm::json::Object *k = (*kernels)[i].getAsObject();
    std::string ops;
    for (const llvm::json::Value &o : *k->getArray("ops"))
      ops += (ops.empty() ? "" : "+") + o.getAsString()->str();
    std::string layer =
        k->getInteger("layer") ? std::to_string(*k->getInteger("layer")) : "-";
    os << llvm::formatv("{0,4}  {1,-5}  {2,-18}  {3,-42}  {4,12}  {5,12}\n", i,
                        layer, *k->getString("name"), ops,
                        *k->getInteger("flops"), *k->getInteger("bytes_moved"));
  }
  auto num = [&](StringRef key) {
    auto v = report.getInteger(key);
    return v ? std::to_string(*v) : std::string("n/a");
  };
  os << "kernels per layer: " << num("kernels_per_layer")
     << ", launches per step: " << num("launches_per_step")
     << "\narena: " << num("arena_bytes")
     << " bytes (naive: " << num("naive_arena_bytes")
     << "), weights: " << num("weights_bytes")
     << " bytes, KV: " << num("kv_bytes_per_token") << " bytes/token\n";
}

} // namespace llmc
