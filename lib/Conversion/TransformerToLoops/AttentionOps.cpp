//===- AttentionOps.cpp - causal paged attention over a ragged batch ------===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

using namespace mlir;

namespace llmc {
namespace {

/// For every token, this invocation's query heads; head h reads KV head
/// h / (heads / kv_heads). Keys from max(0, pos + 1 - window) to pos of the
/// token's own sequence, each through its block table: a first pass for
/// the largest scaled score, a second for exp(score - max) weighting the
/// values, then a division by the sum.
struct AttentionLowering : KernelPattern<tfm::AttentionOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::AttentionOp a, const KernelBuffers &k,
                      LoopBuilder &b, Value begin, Value end) const override {
    Value q = k.of(a.getQuery()), kc = k.of(a.getKeyCache()),
          vc = k.of(a.getValueCache()), out = k.results[0];
    Value tables = k.of(a.getBlockTables());
    Value seqIds = k.of(a.getSeqIds()), pos = k.of(a.getPositions());
    int64_t heads = a.getType().getDimSize(1);
    int64_t kvHeads = a.getKeyCache().getType().getDimSize(2);
    int64_t headDim = a.getType().getDimSize(2);
    int64_t blockSize = a.getKeyCache().getType().getDimSize(1);
    std::optional<uint64_t> window = a.getSlidingWindow();
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();
    Value bs = b.idx(blockSize);
    // Where key j of sequence `seq` sits: (block, row).
    auto keySlot = [&](Value seq, Value j) {
      Value block = b.loadIndex(tables, {seq, b.divui(j, bs)});
      Value off = arith::RemUIOp::create(ob, loc, j, bs);
      return std::make_pair(block, off);
    };
    auto score = [&](Value t, Value h, Value kvh, Value seq, Value j) {
      std::pair<Value, Value> slot = keySlot(seq, j);
      Value block = slot.first, off = slot.second;
      Value dot =
          b.reduce(b.idx(0), b.idx(headDim), b.f32(0), [&](Value d, Value acc) {
            return b.dotStep(acc, b.load(q, {t, h, d}),
                             b.load(kc, {block, off, kvh, d}));
          });
      return b.mul(dot, b.f32(a.getScale().convertToDouble()));
    };
    b.loopNest(
        {b.dim(q, 0), b.idx(heads)},
        [&](ValueRange th) {
          Value t = th[0], h = th[1];
          Value kvh = b.divui(h, b.idx(heads / kvHeads));
          Value seq = b.loadIndex(seqIds, {t});
          Value last = b.addi(b.loadIndex(pos, {t}), b.idx(1));
          Value start = b.idx(0);
          if (window) {
            Value w = b.idx(static_cast<int64_t>(*window));
            Value past = arith::CmpIOp::create(
                ob, loc, arith::CmpIPredicate::ugt, last, w);
            start = arith::SelectOp::create(ob, loc, past, b.subi(last, w),
                                            b.idx(0));
          }
          Value m =
              b.reduce(start, last, b.f32(-INFINITY), [&](Value j, Value acc) {
                return arith::MaximumFOp::create(ob, loc, acc,
                                                 score(t, h, kvh, seq, j));
              });
          b.loop(b.idx(0), b.idx(headDim), [&](Value d) {
            b.store(b.f32(0), out, {t, h, d});
          });
          Value sum = b.reduce(start, last, b.f32(0), [&](Value j, Value acc) {
            Value e = math::ExpOp::create(ob, loc,
                                          b.sub(score(t, h, kvh, seq, j), m));
            std::pair<Value, Value> slot = keySlot(seq, j);
            Value block = slot.first, off = slot.second;
            b.loop(b.idx(0), b.idx(headDim), [&](Value d) {
              Value v = b.load(vc, {block, off, kvh, d});
              b.store(b.add(b.load(out, {t, h, d}), b.mul(e, v)), out,
                      {t, h, d});
            });
            return b.add(acc, e);
          });
          b.loop(b.idx(0), b.idx(headDim), [&](Value d) {
            b.store(b.div(b.load(out, {t, h, d}), sum), out, {t, h, d});
          });
        },
        /*ranged=*/1, begin, end);
    return success();
  }
};

} // namespace

void populateAttentionLoweringPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  patterns.add<AttentionLowering>(patterns.getContext(), target);
}

} // namespace llmc
