//===- ShapeOps.cpp - copies: transpose, concat, split, slice -------------===//
//
// Reshapes are views (convert-tfm-to-plan gives them their input's buffer);
// the other shape ops copy. Work items: the rows (dimension 0) of the
// output, or of the input for a split.
//
//===----------------------------------------------------------------------===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

using namespace mlir;

namespace llmc {
namespace {

struct TransposeLowering : KernelPattern<tfm::TransposeOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::TransposeOp t, const KernelBuffers &k,
                      LoopBuilder &b, Value begin, Value end) const override {
    Value in = k.operands[0], out = k.results[0];
    ArrayRef<int64_t> perm = t.getPermutation();
    b.loopNest(
        b.dims(out),
        [&](ValueRange iv) {
          SmallVector<Value> src(iv.size());
          for (auto [i, p] : llvm::enumerate(perm))
            src[p] = iv[i];
          b.store(b.load(in, src), out, iv);
        },
        /*ranged=*/0, begin, end);
    return success();
  }
};

/// Copies `piece` (an input of a concat, an output of a split or slice)
/// between `from` and `to`, at `offset` along `axis` of the whole side
/// (the destination for a concat, the source otherwise). [begin, end) are
/// this invocation's rows of the iterated buffer: the piece itself, or
/// (`rangeOverWhole`) the whole side, whose rows along axis 0 are shifted
/// by the offset.
void copyPiece(LoopBuilder &b, Value from, Value to, bool pieceIsSource,
               int64_t axis, Value offset, Value begin, Value end,
               bool rangeOverWhole) {
  Value piece = pieceIsSource ? from : to;
  Value lb = begin, ub = end;
  if (axis == 0) {
    Value rows = b.dim(piece, 0);
    if (rangeOverWhole) {
      lb = b.subi(begin, offset);
      ub = b.subi(end, offset);
    }
    lb = b.clamp(lb, b.idx(0), rows);
    ub = b.clamp(ub, b.idx(0), rows);
  }
  b.loopNest(
      b.dims(piece),
      [&](ValueRange iv) {
        SmallVector<Value> src(iv), dst(iv);
        SmallVector<Value> &whole = pieceIsSource ? dst : src;
        whole[axis] = b.addi(whole[axis], offset);
        b.store(b.load(from, src), to, dst);
      },
      /*ranged=*/0, lb, ub);
}

struct ConcatLowering : KernelPattern<tfm::ConcatOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::ConcatOp c, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    int64_t axis = c.getAxis();
    Value out = k.results[0];
    Value offset = b.idx(0);
    for (Value in : k.operands) {
      copyPiece(b, in, out, /*pieceIsSource=*/true, axis, offset, begin, end,
                /*rangeOverWhole=*/true);
      offset = b.addi(offset, b.dim(in, axis));
    }
    return success();
  }
};

template <typename OpT> struct PartLowering : KernelPattern<OpT> {
  using KernelPattern<OpT>::KernelPattern;

  LogicalResult lower(OpT op, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    int64_t axis = op.getAxis();
    Value in = k.operands[0];
    Value offset = b.idx(0);
    if constexpr (std::is_same_v<OpT, tfm::SliceOp>)
      offset = b.idx(op.getStart());
    // A slice iterates over its output's rows, a split over its input's
    // (it has several outputs).
    constexpr bool overInput = std::is_same_v<OpT, tfm::SplitOp>;
    for (Value out : k.results) {
      copyPiece(b, in, out, /*pieceIsSource=*/false, axis, offset, begin, end,
                overInput);
      offset = b.addi(offset, b.dim(out, axis));
    }
    return success();
  }
};

} // namespace

void populateShapeLoweringPatterns(RewritePatternSet &patterns,
                                   const TargetInfo &target) {
  patterns.add<TransposeLowering, ConcatLowering, PartLowering<tfm::SplitOp>,
               PartLowering<tfm::SliceOp>>(patterns.getContext(), target);
}

} // namespace llmc
