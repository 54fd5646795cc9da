//===- ParallelExtent.cpp - a kernel op's work items ----------------------===//
#include "llmc/Dialect/Transformer/Utils/ParallelExtent.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace llmc::tfm {

SmallVector<ParallelDim> getSupportedParallelDims(Operation *op) {
  return TypeSwitch<Operation *, SmallVector<ParallelDim>>(op)
      .Case<EmbeddingOp, RMSNormOp, LayerNormOp, AddRMSNormOp, AddLayerNormOp,
            SoftmaxOp, KVCacheWriteOp, TransposeOp, ConcatOp, SplitOp, SliceOp,
            ArgmaxOp>(
          [](auto) { return SmallVector<ParallelDim>{ParallelDim::Rows}; })
      .Case<AddOp, MulOp, SiLUOp, GELUOp>(
          [](auto) { return SmallVector<ParallelDim>{ParallelDim::Elements}; })
      .Case<LinearOp>([](auto) {
        return SmallVector<ParallelDim>{ParallelDim::OutputChannels};
      })
      .Case<MatmulOp, GatherLastTokensOp>(
          [](auto) { return SmallVector<ParallelDim>{ParallelDim::Columns}; })
      .Case<RoPEOp, AttentionOp, QKVRopeCacheOp>(
          [](auto) { return SmallVector<ParallelDim>{ParallelDim::Heads}; })
      .Default([](Operation *) { return SmallVector<ParallelDim>{}; });
}

/// The product of dimensions [from, to) of `v`: at most one of them may be
/// dynamic.
static FailureOr<ParallelExtent> product(Operation *op, Value v, int64_t from,
                                         int64_t to) {
  auto ty = cast<ShapedType>(v.getType());
  ParallelExtent e;
  for (int64_t d = from; d < to; ++d) {
    if (!ty.isDynamicDim(d)) {
      e.scale *= ty.getDimSize(d);
      continue;
    }
    if (e.sizeOf)
      return op->emitOpError()
             << "has more than one dynamic dimension to split across threads";
    e.sizeOf = v;
    e.dim = d;
  }
  return e;
}

FailureOr<ParallelExtent> getParallelExtent(Operation *op,
                                            ParallelDim parallel) {
  if (!llvm::is_contained(getSupportedParallelDims(op), parallel))
    return op->emitOpError() << "cannot split its work along '"
                             << stringifyParallelDim(parallel) << "'";
  auto rank = [](Value v) { return cast<ShapedType>(v.getType()).getRank(); };
  return TypeSwitch<Operation *, FailureOr<ParallelExtent>>(op)
      // Rows of the input, its leading dimensions folded into one.
      .Case<RMSNormOp, LayerNormOp, AddRMSNormOp, AddLayerNormOp, SoftmaxOp>(
          [&](Operation *o) {
            Value in = o->getOperand(0);
            return product(o, in, 0, std::max<int64_t>(rank(in) - 1, 0));
          })
      .Case<EmbeddingOp, TransposeOp, ConcatOp, SliceOp>([&](Operation *o) {
        return product(o, o->getResult(0), 0,
                       std::min<int64_t>(1, rank(o->getResult(0))));
      })
      .Case<SplitOp, KVCacheWriteOp, ArgmaxOp>([&](Operation *o) {
        Value in = isa<KVCacheWriteOp>(o) ? o->getOperand(1) : o->getOperand(0);
        return product(o, in, 0, std::min<int64_t>(1, rank(in)));
      })
      .Case<AddOp, MulOp, SiLUOp, GELUOp>([&](Operation *o) {
        return product(o, o->getResult(0), 0, rank(o->getResult(0)));
      })
      .Case<LinearOp, MatmulOp, GatherLastTokensOp>([&](Operation *o) {
        Value r = o->getResult(0);
        return product(o, r, rank(r) - 1, rank(r));
      })
      .Case<RoPEOp, AttentionOp>(
          [&](Operation *o) { return product(o, o->getResult(0), 1, 2); })
      .Case<QKVRopeCacheOp>([&](QKVRopeCacheOp q) -> FailureOr<ParallelExtent> {
        // Query heads, then the KV heads' keys, then their values.
        ParallelExtent e;
        e.scale = q.getQuery().getType().getDimSize(1) +
                  2 * q.getKeyCache().getType().getDimSize(2);
        return e;
      })
      .Default([&](Operation *o) -> FailureOr<ParallelExtent> {
        return o->emitOpError() << "is not a kernel";
      });
}

} // namespace llmc::tfm
