//===- LinearOps.cpp - linear (register-blocked) and matmul ---------------===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

using namespace mlir;

namespace llmc {
namespace {

/// x * W^T (+ bias), through the epilogue, (+ residual). Weight-stationary:
/// token tiles of `tile_rows` rows (inputs that fit in cache), then this
/// invocation's output channels in blocks of `channel_block`, then token
/// rows in blocks of `row_block`: each pass over k loads every weight
/// vector once for all rows of the block and every input vector once for
/// all channels, the accumulators staying in registers.
struct LinearLowering : KernelPattern<tfm::LinearOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::LinearOp l, const KernelBuffers &k, LoopBuilder &b,
                      Value first, Value last) const override {
    auto config =
        tfm::dialect(l.getContext()).getKernelConfigAttrHelper().getAttr(l);
    int64_t rowBlock = config.getRowBlock();
    int64_t channelBlock = config.getChannelBlock();
    int64_t tileRows = config.getTileRows();
    Value in = k.of(l.getInput()), w = k.of(l.getWeight());
    Value bias = l.getBias() ? k.of(l.getBias()) : Value();
    Value residual = l.getResidual() ? k.of(l.getResidual()) : Value();
    tfm::Epilogue epilogue = l.getEpilogue();
    Value x = b.collapse(in, 1), out = b.collapse(k.results[0], 1);
    Value res = residual ? b.collapse(residual, 1) : Value();
    Value kdim = b.dim(x, 1);
    Value width = b.dim(out, 1);
    int64_t perChannel = epilogue == tfm::Epilogue::SwiGLU ? 2 : 1;
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();

    // Output channels `ns` for token rows `ms` in one pass over k.
    auto outputs = [&](ArrayRef<Value> ns, ArrayRef<Value> ms) {
      SmallVector<Value> rows; // weight rows: gate (and up) per channel
      for (Value n : ns) {
        rows.push_back(n);
        if (perChannel == 2)
          rows.push_back(b.addi(n, width));
      }
      SmallVector<Value> init(rows.size() * ms.size(), b.f32(0));
      auto forOp = scf::ForOp::create(ob, loc, b.idx(0), kdim, b.idx(1), init);
      {
        OpBuilder::InsertionGuard g(ob);
        ob.setInsertionPointToStart(forOp.getBody());
        Value kk = forOp.getInductionVar();
        SmallVector<Value> xs;
        for (Value m : ms)
          xs.push_back(b.load(x, {m, kk}));
        SmallVector<Value> next;
        for (auto [r, row] : llvm::enumerate(rows)) {
          Value wv = b.weightAt(w, row, kk);
          for (size_t i = 0; i < ms.size(); ++i)
            next.push_back(b.dotStep(
                forOp.getRegionIterArgs()[r * ms.size() + i], xs[i], wv));
        }
        scf::YieldOp::create(ob, loc, next);
      }
      for (auto [c, n] : llvm::enumerate(ns)) {
        for (auto [i, m] : llvm::enumerate(ms)) {
          auto dotOf = [&, c = c, i = i](size_t which) {
            size_t r = c * perChannel + which;
            Value acc = forOp.getResult(r * ms.size() + i);
            if (Value scale = b.rowScale(w, rows[r], kdim))
              acc = b.mul(acc, scale);
            return bias ? b.add(acc, b.load(bias, {rows[r]})) : acc;
          };
          Value y;
          switch (epilogue) {
          case tfm::Epilogue::None:
            y = dotOf(0);
            break;
          case tfm::Epilogue::SwiGLU:
            y = b.mul(b.silu(dotOf(0)), dotOf(1));
            break;
          case tfm::Epilogue::GELU:
          case tfm::Epilogue::GELUTanh:
            y = b.gelu(dotOf(0), epilogue == tfm::Epilogue::GELUTanh);
            break;
          }
          if (res)
            y = b.add(y, b.load(res, {m, n}));
          b.store(y, out, {m, n});
        }
      }
    };
    Value rowsTotal = b.dim(x, 0);
    auto eachTile = [&](Value t0, Value t1) {
      b.blocked(first, last, channelBlock, [&](ArrayRef<Value> ns) {
        b.blocked(t0, t1, rowBlock,
                  [&](ArrayRef<Value> ms) { outputs(ns, ms); });
      });
    };
    if (tileRows == 0) {
      eachTile(b.idx(0), rowsTotal);
      return success();
    }
    auto tiles =
        scf::ForOp::create(ob, loc, b.idx(0), rowsTotal, b.idx(tileRows));
    OpBuilder::InsertionGuard g(ob);
    ob.setInsertionPointToStart(tiles.getBody());
    Value t0 = tiles.getInductionVar();
    eachTile(t0, b.minui(b.addi(t0, b.idx(tileRows)), rowsTotal));
    return success();
  }
};

/// Batched matmul: batch, m, this invocation's columns n, then a k
/// reduction.
struct MatmulLowering : KernelPattern<tfm::MatmulOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::MatmulOp m, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    Value a = b.collapse(k.of(m.getLhs()), 2),
          c = b.collapse(k.of(m.getRhs()), 2),
          out = b.collapse(k.results[0], 2);
    b.loopNest(
        {b.dim(a, 0), b.dim(a, 1), b.dim(c, 2)},
        [&](ValueRange iv) {
          Value acc =
              b.reduce(b.idx(0), b.dim(a, 2), b.f32(0), [&](Value kk, Value s) {
                return b.dotStep(s, b.load(a, {iv[0], iv[1], kk}),
                                 b.load(c, {iv[0], kk, iv[2]}));
              });
          b.store(acc, out, iv);
        },
        /*ranged=*/2, begin, end);
    return success();
  }
};

} // namespace

void populateLinearLoweringPatterns(RewritePatternSet &patterns,
                                    const TargetInfo &target) {
  patterns.add<LinearLowering, MatmulLowering>(patterns.getContext(), target);
}

} // namespace llmc
