//===- CostModel.cpp - per-token work of a tfm op -------------------------===//
#include "llmc/Dialect/Transformer/Utils/CostModel.h"

#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

using namespace mlir;

namespace llmc::tfm {

int64_t tokenElements(Value v) {
  auto ty = dyn_cast<ShapedType>(v.getType());
  if (!ty)
    return 0;
  int64_t n = 1;
  for (int64_t d : ty.getShape())
    n *= ShapedType::isDynamic(d) ? 1 : d;
  return n;
}

/// A matrix weight's multiply-adds per token: rows x k (int8 rows hold
/// their 4-byte scale after the k values).
static int64_t matrixMacs(RankedTensorType w) {
  int64_t k = w.getDimSize(1) - (w.getElementType().isInteger(8) ? 4 : 0);
  return w.getDimSize(0) * k;
}

int64_t flopsPerToken(Operation *op) {
  if (auto l = dyn_cast<LinearOp>(op))
    return 2 * matrixMacs(l.getWeight().getType());
  if (auto q = dyn_cast<QKVRopeCacheOp>(op))
    return 2 * matrixMacs(q.getWeight().getType()) +
           6 * tokenElements(q.getQuery());
  if (auto a = dyn_cast<AttentionOp>(op))
    return 4 * tokenElements(a.getQuery());
  if (auto m = dyn_cast<MatmulOp>(op)) {
    auto lhs = m.getLhs().getType();
    return 2 * tokenElements(m.getResult()) * lhs.getDimSize(lhs.getRank() - 1);
  }
  if (isa<WeightOp, ReshapeOp, EmbeddingOp, GatherLastTokensOp, KVCacheWriteOp,
          SplitOp, SliceOp, ConcatOp, TransposeOp>(op))
    return 0;
  int64_t out = 0;
  for (Value r : op->getResults())
    out += tokenElements(r);
  return (isa<RMSNormOp, LayerNormOp, AddRMSNormOp, AddLayerNormOp, SoftmaxOp,
              RoPEOp>(op)
              ? 5
              : 1) *
         out;
}

} // namespace llmc::tfm
