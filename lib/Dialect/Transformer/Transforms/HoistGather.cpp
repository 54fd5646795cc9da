//===- HoistGather.cpp - compute logits only for the rows that need them --===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_HOISTGATHER
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// Whether output row t of `op` depends only on row t of its first operand
/// (its other operands being row-independent parameters).
bool isRowWise(Operation *op) {
  if (isa<tfm::RMSNormOp, tfm::LayerNormOp, tfm::SiLUOp, tfm::GELUOp>(op))
    return true;
  if (auto l = dyn_cast<tfm::LinearOp>(op))
    return !l.getResidual() && l.getInput().getType().getRank() == 2;
  return false;
}

struct HoistGather : llmc::impl::HoistGatherBase<HoistGather> {
  void runOnOperation() override {
    SmallVector<tfm::GatherLastTokensOp> gathers;
    getOperation().walk(
        [&](tfm::GatherLastTokensOp g) { gathers.push_back(g); });
    for (tfm::GatherLastTokensOp g : gathers) {
      // Move the gather above its row-wise producer while it has no other
      // user: the producer then runs on the gathered rows only.
      while (true) {
        Operation *producer = g.getInput().getDefiningOp();
        if (!producer || !isRowWise(producer) || !producer->hasOneUse())
          break;
        Value rows = producer->getOperand(0);
        auto rowsTy = cast<RankedTensorType>(rows.getType());
        OpBuilder b(producer);
        auto gathered = tfm::GatherLastTokensOp::create(
            b, g.getLoc(),
            RankedTensorType::get(
                {g.getType().getDimSize(0), rowsTy.getDimSize(1)},
                rowsTy.getElementType()),
            rows, g.getIndices());
        auto resultTy =
            cast<RankedTensorType>(producer->getResult(0).getType());
        producer->setOperand(0, gathered);
        producer->getResult(0).setType(RankedTensorType::get(
            {g.getType().getDimSize(0), resultTy.getDimSize(1)},
            resultTy.getElementType()));
        g.replaceAllUsesWith(producer->getResult(0));
        g.erase();
        g = gathered;
      }
    }
  }
};

} // namespace
