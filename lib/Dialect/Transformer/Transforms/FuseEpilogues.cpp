//===- FuseEpilogues.cpp - activations into the producing linear ----------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// A plain linear whose only user is `user`.
tfm::LinearOp plainProducer(Value v, Operation *user) {
  auto l = v.getDefiningOp<tfm::LinearOp>();
  if (!l || l.getEpilogue() != tfm::Epilogue::None || !l->hasOneUse() ||
      *l->getUsers().begin() != user)
    return nullptr;
  return l;
}

/// Rebuilds `l` with `epilogue` and result type `type`, at `l`.
Value withEpilogue(tfm::LinearOp l, tfm::Epilogue epilogue, Type type) {
  OpBuilder b(l);
  return tfm::LinearOp::create(b, l.getLoc(), type, l.getInput(), l.getWeight(),
                               l.getBias(), l.getResidual(), epilogue);
}

struct FuseEpilogues : llmc::impl::FuseEpiloguesBase<FuseEpilogues> {
  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (isa<tfm::MulOp, tfm::GELUOp>(op))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      if (auto gelu = dyn_cast<tfm::GELUOp>(op))
        fuseGelu(gelu);
      else
        fuseSwiGLU(cast<tfm::MulOp>(op));
    }
    // Residual adds last, so that they land on linears that already carry
    // their activation.
    SmallVector<tfm::AddOp> adds;
    getOperation().walk([&](tfm::AddOp a) { adds.push_back(a); });
    for (tfm::AddOp a : adds)
      fuseResidual(a);
  }

  // r + linear(x) -> linear(x) residual(r), built where the add was.
  void fuseResidual(tfm::AddOp add) {
    for (int order = 0; order < 2; ++order) {
      auto l = add->getOperand(order).getDefiningOp<tfm::LinearOp>();
      if (!l || l.getResidual() || !l->hasOneUse() ||
          l.getType() != add.getType())
        continue;
      OpBuilder b(add);
      Value fused = tfm::LinearOp::create(
          b, l.getLoc(), l.getType(), l.getInput(), l.getWeight(), l.getBias(),
          add->getOperand(1 - order), l.getEpilogue());
      add.replaceAllUsesWith(fused);
      add.erase();
      l.erase();
      return;
    }
  }

  // gelu(linear(x)) -> linear(x) {epilogue = gelu | gelu_tanh}
  void fuseGelu(tfm::GELUOp gelu) {
    tfm::LinearOp l = plainProducer(gelu.getInput(), gelu);
    if (!l)
      return;
    auto epilogue = gelu.getApproximation() == tfm::GeluApproximation::Tanh
                        ? tfm::Epilogue::GELUTanh
                        : tfm::Epilogue::GELU;
    gelu.replaceAllUsesWith(withEpilogue(l, epilogue, gelu.getType()));
    gelu.erase();
    l.erase();
  }

  // silu(s#0) * s#1 with s = split(linear(x)) in two halves
  //   -> linear(x) {epilogue = swiglu}
  void fuseSwiGLU(tfm::MulOp mul) {
    for (int order = 0; order < 2; ++order) {
      Value gateAct = mul->getOperand(order), up = mul->getOperand(1 - order);
      auto silu = gateAct.getDefiningOp<tfm::SiLUOp>();
      if (!silu || !silu->hasOneUse() || !up.hasOneUse())
        continue;
      auto split = silu.getInput().getDefiningOp<tfm::SplitOp>();
      if (!split || split.getNumResults() != 2 ||
          split.getResult(0) != silu.getInput() || split.getResult(1) != up ||
          !split.getResult(0).hasOneUse() ||
          split.getResult(0).getType() != split.getResult(1).getType() ||
          static_cast<int64_t>(split.getAxis()) !=
              split.getInput().getType().getRank() - 1)
        continue;
      tfm::LinearOp l = plainProducer(split.getInput(), split);
      if (!l)
        continue;
      mul.replaceAllUsesWith(
          withEpilogue(l, tfm::Epilogue::SwiGLU, mul.getType()));
      mul.erase();
      silu.erase();
      split.erase();
      l.erase();
      return;
    }
  }
};

} // namespace
