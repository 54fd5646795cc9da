//===- FuseQKVRopeCache.cpp - RoPE and KV writes as the QKV epilogue ------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEQKVROPECACHE
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// The only user of `v` if it has exactly one and it is an OpT.
template <typename OpT> OpT soleUser(Value v) {
  if (!v.hasOneUse())
    return nullptr;
  return dyn_cast<OpT>(*v.getUsers().begin());
}

bool sameRope(tfm::RoPEOp a, tfm::RoPEOp b) {
  return a.getPositions() == b.getPositions() &&
         a.getSeqIds() == b.getSeqIds() && a.getRope() == b.getRope();
}

struct FuseQKVRopeCache : llmc::impl::FuseQKVRopeCacheBase<FuseQKVRopeCache> {
  void runOnOperation() override {
    SmallVector<tfm::SplitOp> splits;
    getOperation().walk([&](tfm::SplitOp s) { splits.push_back(s); });
    for (tfm::SplitOp split : splits)
      tryFuse(split);
  }

  void tryFuse(tfm::SplitOp split) {
    if (split.getNumResults() != 3)
      return;
    auto linear = split.getInput().getDefiningOp<tfm::LinearOp>();
    if (!linear || !linear->hasOneUse() ||
        linear.getInput().getType().getRank() != 2)
      return;
    tfm::ReshapeOp reshapes[3];
    for (int i = 0; i < 3; ++i) {
      reshapes[i] = soleUser<tfm::ReshapeOp>(split.getResult(i));
      if (!reshapes[i] || reshapes[i].getType().getRank() != 3)
        return;
    }
    auto qRope = soleUser<tfm::RoPEOp>(reshapes[0]);
    auto kRope = soleUser<tfm::RoPEOp>(reshapes[1]);
    if (!qRope || !kRope || !sameRope(qRope, kRope))
      return;
    auto kWrite = soleUser<tfm::KVCacheWriteOp>(kRope);
    auto vWrite = soleUser<tfm::KVCacheWriteOp>(reshapes[2]);
    if (!kWrite || !vWrite || kWrite.getValues() != kRope.getResult() ||
        vWrite.getValues() != reshapes[2].getResult() ||
        kWrite.getSlots() != vWrite.getSlots() ||
        kWrite.getType() != vWrite.getType())
      return;

    // The fused op goes where the last of the replaced ops was; every user
    // of what it replaces must come later.
    Operation *replaced[] = {qRope, kWrite, vWrite};
    Operation *last = qRope;
    for (Operation *op : replaced)
      if (op->getBlock() != last->getBlock())
        return;
      else if (last->isBeforeInBlock(op))
        last = op;
    for (Operation *op : replaced)
      for (Operation *user : op->getUsers())
        if (user->getBlock() != last->getBlock() ||
            !last->isBeforeInBlock(user))
          return;

    OpBuilder b(last);
    auto fused = tfm::QKVRopeCacheOp::create(
        b, linear.getLoc(),
        TypeRange{qRope.getType(), kWrite.getType(), vWrite.getType()},
        linear.getInput(), linear.getWeight(), linear.getBias(),
        qRope.getPositions(), kWrite.getSlots(), kWrite.getCache(),
        vWrite.getCache(), qRope.getSeqIds(), qRope.getRope());
    qRope.getResult().replaceAllUsesWith(fused.getQuery());
    kWrite.getResult().replaceAllUsesWith(fused.getKeyCacheOut());
    vWrite.getResult().replaceAllUsesWith(fused.getValueCacheOut());
    Operation *dead[] = {vWrite,      kWrite,      kRope, qRope, reshapes[2],
                         reshapes[1], reshapes[0], split, linear};
    for (Operation *op : dead)
      op->erase();
  }
};

} // namespace
