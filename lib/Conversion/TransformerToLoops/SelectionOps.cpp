//===- SelectionOps.cpp - embedding, gather_last_tokens, argmax -----------===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

using namespace mlir;

namespace llmc {
namespace {

/// out[i, :] = table[indices[i], :], the work range on dimension `ranged`
/// of `out` (its rows or its columns).
void gatherRows(LoopBuilder &b, Value table, Value indices, Value out,
                int64_t ranged, Value begin, Value end) {
  Value width = b.dim(out, 1);
  b.loopNest(
      {b.dim(indices, 0), width},
      [&](ValueRange iv) {
        Value row = b.loadIndex(indices, {iv[0]});
        Value v = b.weightAt(table, row, iv[1]);
        if (Value scale = b.rowScale(table, row, width))
          v = b.mul(v, scale);
        b.store(v, out, iv);
      },
      ranged, begin, end);
}

/// This invocation's tokens, each the table row of its id.
struct EmbeddingLowering : KernelPattern<tfm::EmbeddingOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::EmbeddingOp e, const KernelBuffers &k,
                      LoopBuilder &b, Value begin, Value end) const override {
    std::optional<int64_t> start = e.getVocabStart();
    if (!start) {
      gatherRows(b, k.of(e.getTable()), k.of(e.getIds()), k.results[0],
                 /*ranged=*/0, begin, end);
      return success();
    }
    // A part of the vocabulary: ids outside it give zero rows.
    Value table = k.of(e.getTable()), ids = k.of(e.getIds());
    Value out = k.results[0];
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();
    Value width = b.dim(out, 1);
    b.loopNest(
        {b.dim(ids, 0), width},
        [&](ValueRange iv) {
          Value row = arith::SubIOp::create(ob, loc, b.loadIndex(ids, {iv[0]}),
                                            b.idx(*start));
          Value ge = arith::CmpIOp::create(ob, loc, arith::CmpIPredicate::sge,
                                           row, b.idx(0));
          Value lt = arith::CmpIOp::create(ob, loc, arith::CmpIPredicate::slt,
                                           row, b.dim(table, 0));
          Value in = arith::AndIOp::create(ob, loc, ge, lt);
          auto ifOp = scf::IfOp::create(ob, loc, TypeRange{ob.getF32Type()}, in,
                                        /*withElseRegion=*/true);
          {
            OpBuilder::InsertionGuard g(ob);
            ob.setInsertionPointToStart(ifOp.thenBlock());
            Value v = b.weightAt(table, row, iv[1]);
            if (Value scale = b.rowScale(table, row, width))
              v = b.mul(v, scale);
            scf::YieldOp::create(ob, loc, v);
            ob.setInsertionPointToStart(ifOp.elseBlock());
            scf::YieldOp::create(ob, loc, b.f32(0));
          }
          b.store(ifOp.getResult(0), out, iv);
        },
        /*ranged=*/0, begin, end);
    return success();
  }
};

/// For every index, this invocation's columns of the row it names.
struct GatherLastTokensLowering : KernelPattern<tfm::GatherLastTokensOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::GatherLastTokensOp g, const KernelBuffers &k,
                      LoopBuilder &b, Value begin, Value end) const override {
    gatherRows(b, k.of(g.getInput()), k.of(g.getIndices()), k.results[0],
               /*ranged=*/1, begin, end);
    return success();
  }
};

/// Per row of this invocation's rows, the first maximum (a later equal
/// value does not replace it), stored as the result's integer type.
struct ArgmaxLowering : KernelPattern<tfm::ArgmaxOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::ArgmaxOp a, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    Value logits = k.operands[0], out = k.results[0];
    Type idTy = a.getType().getElementType();
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();
    b.loop(begin, end, [&](Value r) {
      auto forOp =
          scf::ForOp::create(ob, loc, b.idx(0), b.dim(logits, 1), b.idx(1),
                             ValueRange{b.f32(-INFINITY), b.idx(0)});
      {
        OpBuilder::InsertionGuard g(ob);
        ob.setInsertionPointToStart(forOp.getBody());
        Value j = forOp.getInductionVar();
        Value best = forOp.getRegionIterArgs()[0];
        Value x = b.load(logits, {r, j});
        Value better =
            arith::CmpFOp::create(ob, loc, arith::CmpFPredicate::OGT, x, best);
        scf::YieldOp::create(
            ob, loc,
            ValueRange{arith::SelectOp::create(ob, loc, better, x, best),
                       arith::SelectOp::create(ob, loc, better, j,
                                               forOp.getRegionIterArgs()[1])});
      }
      b.store(arith::IndexCastOp::create(ob, loc, idTy, forOp.getResult(1)),
              out, {r});
    });
    return success();
  }
};

} // namespace

void populateSelectionLoweringPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  patterns.add<EmbeddingLowering, GatherLastTokensLowering, ArgmaxLowering>(
      patterns.getContext(), target);
}

} // namespace llmc
