//===- PointwiseOps.cpp - elementwise ops over the flattened elements -----===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

using namespace mlir;

namespace llmc {
namespace {

/// add, mul, SiLU, GELU: one load per operand and one store per element of
/// this invocation's range of the flattened elements.
template <typename OpT> struct PointwiseLowering : KernelPattern<OpT> {
  using KernelPattern<OpT>::KernelPattern;

  LogicalResult lower(OpT op, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    Value out = b.collapse(k.results[0], 0);
    SmallVector<Value> ins;
    for (Value v : k.operands)
      ins.push_back(b.collapse(v, 0));
    b.loop(begin, end, [&](Value i) {
      Value x = b.load(ins[0], {i}), y;
      if constexpr (std::is_same_v<OpT, tfm::AddOp>)
        y = b.add(x, b.load(ins[1], {i}));
      else if constexpr (std::is_same_v<OpT, tfm::MulOp>)
        y = b.mul(x, b.load(ins[1], {i}));
      else if constexpr (std::is_same_v<OpT, tfm::SiLUOp>)
        y = b.silu(x);
      else
        y = b.gelu(x, op.getApproximation() == tfm::GeluApproximation::Tanh);
      b.store(y, out, {i});
    });
    return success();
  }
};

} // namespace

void populatePointwiseLoweringPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  patterns.add<PointwiseLowering<tfm::AddOp>, PointwiseLowering<tfm::MulOp>,
               PointwiseLowering<tfm::SiLUOp>, PointwiseLowering<tfm::GELUOp>>(
      patterns.getContext(), target);
}

} // namespace llmc
