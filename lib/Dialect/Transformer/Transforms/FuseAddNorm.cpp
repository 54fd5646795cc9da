//===- FuseAddNorm.cpp - residual add + norm as one row kernel ------------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEADDNORM
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct FuseAddNorm : llmc::impl::FuseAddNormBase<FuseAddNorm> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    SmallVector<Operation *> norms;
    getOperation().walk([&](Operation *op) {
      if (isa<tfm::RMSNormOp, tfm::LayerNormOp>(op) &&
          op->getOperand(0).getDefiningOp<tfm::AddOp>())
        norms.push_back(op);
    });
    for (Operation *norm : norms) {
      auto add = norm->getOperand(0).getDefiningOp<tfm::AddOp>();
      // At the norm: both add operands dominate it, and the add's other
      // users come after the add, so they can take the fused sum only if
      // they also come after the norm.
      bool laterUsers = llvm::all_of(add->getUsers(), [&](Operation *u) {
        return u == norm || norm->isBeforeInBlock(u);
      });
      if (!laterUsers || add->getBlock() != norm->getBlock())
        continue;
      b.setInsertionPoint(norm);
      Operation *fused;
      if (auto rms = dyn_cast<tfm::RMSNormOp>(norm))
        fused = tfm::AddRMSNormOp::create(b, norm->getLoc(), add.getLhs(),
                                          add.getRhs(), rms.getWeight(),
                                          rms.getEpsAttr());
      else
        fused = tfm::AddLayerNormOp::create(
            b, norm->getLoc(), add.getLhs(), add.getRhs(),
            cast<tfm::LayerNormOp>(norm).getWeight(),
            cast<tfm::LayerNormOp>(norm).getBias(),
            cast<tfm::LayerNormOp>(norm).getEpsAttr());
      norm->getResult(0).replaceAllUsesWith(fused->getResult(1));
      add.getResult().replaceAllUsesWith(fused->getResult(0));
      norm->erase();
      add.erase();
    }
  }
};

} // namespace
