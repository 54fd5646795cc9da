//===- NormOps.cpp - row reductions: norms, fused add + norm, softmax -----===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

using namespace mlir;

namespace llmc {
namespace {

/// RMSNorm and LayerNorm, alone or fused with the residual add before them:
/// per row, the fused forms first write the row's sum (result #0), then
/// normalize it, in the same loop over rows.
template <typename OpT> struct NormLowering : KernelPattern<OpT> {
  using KernelPattern<OpT>::KernelPattern;

  LogicalResult lower(OpT op, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    constexpr bool fusedAdd = std::is_same_v<OpT, tfm::AddRMSNormOp> ||
                              std::is_same_v<OpT, tfm::AddLayerNormOp>;
    constexpr bool layer = std::is_same_v<OpT, tfm::LayerNormOp> ||
                           std::is_same_v<OpT, tfm::AddLayerNormOp>;
    unsigned params = fusedAdd ? 2 : 1;
    Value in = k.operands[0];
    Value w = k.operands[params];
    Value bias = layer ? k.operands[params + 1] : Value();
    double eps = op.getEps().convertToDouble();
    Value x = b.collapse(fusedAdd ? k.results[0] : in, 1);
    Value out = b.collapse(k.results[fusedAdd ? 1 : 0], 1);
    Value a = fusedAdd ? b.collapse(in, 1) : Value();
    Value c = fusedAdd ? b.collapse(k.operands[1], 1) : Value();
    int64_t n = cast<MemRefType>(in.getType()).getShape().back();
    Value nF = b.f32(static_cast<double>(n)), N = b.idx(n);
    b.loop(begin, end, [&](Value r) {
      if (fusedAdd)
        b.loop(b.idx(0), N, [&](Value j) {
          b.store(b.add(b.load(a, {r, j}), b.load(c, {r, j})), x, {r, j});
        });
      Value mean = b.f32(0);
      if (layer)
        mean = b.div(b.reduce(b.idx(0), N, b.f32(0),
                              [&](Value j, Value acc) {
                                return b.add(acc, b.load(x, {r, j}));
                              }),
                     nF);
      Value sq = b.reduce(b.idx(0), N, b.f32(0), [&](Value j, Value acc) {
        Value d = b.sub(b.load(x, {r, j}), mean);
        return b.add(acc, b.mul(d, d));
      });
      Value inv = math::RsqrtOp::create(b.builder(), b.getLoc(),
                                        b.add(b.div(sq, nF), b.f32(eps)));
      b.loop(b.idx(0), N, [&](Value j) {
        Value y = b.mul(b.sub(b.load(x, {r, j}), mean), inv);
        y = b.mul(b.load(w, {j}), y);
        if (layer)
          y = b.add(y, b.load(bias, {j}));
        b.store(y, out, {r, j});
      });
    });
    return success();
  }
};

/// Softmax on the last axis: the row maximum, exp(x - max) stored and
/// summed, then divided in place.
struct SoftmaxLowering : KernelPattern<tfm::SoftmaxOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::SoftmaxOp op, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    if (static_cast<int64_t>(op.getAxis()) != op.getType().getRank() - 1)
      return op.emitOpError()
             << "the loop lowering supports softmax on the last axis only";
    Value x = b.collapse(k.operands[0], 1), out = b.collapse(k.results[0], 1);
    Value n = b.dim(x, 1);
    b.loop(begin, end, [&](Value r) {
      Value m =
          b.reduce(b.idx(0), n, b.f32(-INFINITY), [&](Value j, Value acc) {
            return arith::MaximumFOp::create(b.builder(), b.getLoc(), acc,
                                             b.load(x, {r, j}));
          });
      Value sum = b.reduce(b.idx(0), n, b.f32(0), [&](Value j, Value acc) {
        Value e = math::ExpOp::create(b.builder(), b.getLoc(),
                                      b.sub(b.load(x, {r, j}), m));
        b.store(e, out, {r, j});
        return b.add(acc, e);
      });
      b.loop(b.idx(0), n, [&](Value j) {
        b.store(b.div(b.load(out, {r, j}), sum), out, {r, j});
      });
    });
    return success();
  }
};

} // namespace

void populateNormLoweringPatterns(RewritePatternSet &patterns,
                                  const TargetInfo &target) {
  patterns.add<NormLowering<tfm::RMSNormOp>, NormLowering<tfm::LayerNormOp>,
               NormLowering<tfm::AddRMSNormOp>,
               NormLowering<tfm::AddLayerNormOp>, SoftmaxLowering>(
      patterns.getContext(), target);
}

} // namespace llmc
