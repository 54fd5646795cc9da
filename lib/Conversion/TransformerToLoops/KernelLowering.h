//===- KernelLowering.h - shared parts of the family lowerings -*- C++ -*-===//
//
// The loop builder every family uses (scf loops over memref loads and
// stores), and the pattern base that finds a kernel op's buffers and its
// work range. Private to lib/Conversion/TransformerToLoops.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_LIB_CONVERSION_TRANSFORMERTOLOOPS_KERNELLOWERING_H
#define LLMC_LIB_CONVERSION_TRANSFORMERTOLOOPS_KERNELLOWERING_H

#include "llmc/Conversion/TransformerToLoops/TargetInfo.h"
#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Utils/ParallelExtent.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/PatternMatch.h"

namespace llmc {

/// Builds scf loops over memrefs at a rewriter's insertion point.
class LoopBuilder {
public:
  using Body = llvm::function_ref<void(mlir::ValueRange)>;

  LoopBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::OpBuilder &builder() { return b; }
  mlir::Location getLoc() const { return loc; }

  mlir::Value idx(int64_t v);
  mlir::Value f32(double v);
  mlir::Value dim(mlir::Value m, int64_t i);
  llvm::SmallVector<mlir::Value> dims(mlir::Value m);
  mlir::Value load(mlir::Value m, mlir::ValueRange ivs);
  void store(mlir::Value v, mlir::Value m, mlir::ValueRange ivs);
  /// A loaded i32 as an index.
  mlir::Value loadIndex(mlir::Value m, mlir::ValueRange ivs);
  /// Element (row, k) of a matrix weight as f32: a float widened, or an
  /// int8 weight's value (rows of K i8 then their f32 scale, i8 [N, K + 4])
  /// converted, its row's scale applied after the sum (rowScale).
  mlir::Value weightAt(mlir::Value w, mlir::Value row, mlir::Value k);
  /// The f32 scale of row `row` of an int8 weight (the 4 bytes after its
  /// `kdim` values, little-endian), or a null Value for float weights.
  mlir::Value rowScale(mlir::Value w, mlir::Value row, mlir::Value kdim);

  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y);
  mlir::Value addi(mlir::Value x, mlir::Value y);
  mlir::Value subi(mlir::Value x, mlir::Value y);
  mlir::Value muli(mlir::Value x, mlir::Value y);
  mlir::Value divui(mlir::Value x, mlir::Value y);
  mlir::Value minui(mlir::Value x, mlir::Value y);
  /// min(max(x, lo), hi) on signed indices.
  mlir::Value clamp(mlir::Value x, mlir::Value lo, mlir::Value hi);
  /// acc + x * y with reassociation and contraction allowed, so that LLVM
  /// vectorizes the reduction and forms FMAs.
  mlir::Value dotStep(mlir::Value acc, mlir::Value x, mlir::Value y);
  mlir::Value silu(mlir::Value x);
  /// GELU, exact (erf) or in GPT-2's tanh form.
  mlir::Value gelu(mlir::Value x, bool tanhForm);

  /// for (iv = lb; iv < ub; ++iv) body(iv).
  void loop(mlir::Value lb, mlir::Value ub,
            llvm::function_ref<void(mlir::Value)> body);
  /// A reduction loop carrying one value.
  mlir::Value
  reduce(mlir::Value lb, mlir::Value ub, mlir::Value init,
         llvm::function_ref<mlir::Value(mlir::Value, mlir::Value)> body);
  /// A loop nest over [0, ubs[d]) for every d, except dimension `ranged`
  /// (when >= 0), which runs over [begin, end).
  void loopNest(llvm::ArrayRef<mlir::Value> ubs, Body body, int64_t ranged = -1,
                mlir::Value begin = {}, mlir::Value end = {});
  /// `body(ivs)` for blocks of `block` consecutive ivs in [lb, ub), then one
  /// at a time for the remainder.
  void blocked(mlir::Value lb, mlir::Value ub, int64_t block,
               llvm::function_ref<void(llvm::ArrayRef<mlir::Value>)> body);
  /// Runs `body(block, row)` for token t's KV slot unless it is negative (a
  /// padding token).
  void atSlot(mlir::Value slots, mlir::Value t, int64_t blockSize,
              llvm::function_ref<void(mlir::Value, mlir::Value)> body);

  /// A contiguous view of `m` with its leading dimensions folded into one:
  /// rank `keep + 1`.
  mlir::Value collapse(mlir::Value m, int64_t keep);

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

/// A kernel op's buffers: each operand's memref (what its plan.load
/// reads) and each result's (what its plan.store writes).
struct KernelBuffers {
  llvm::SmallVector<mlir::Value> operands, results;
  llvm::SmallVector<mlir::Operation *> bindings; // the loads and stores
  /// The buffer of `v`, an operand or result of the op.
  mlir::Value of(mlir::Value v) const;
  mlir::Operation *op = nullptr;
};

/// The base of every family's patterns: matches a tfm op in kernel form,
/// hands its buffers, a loop builder and its work range to `lower`, then
/// erases the op and its bindings.
template <typename OpT>
class KernelPattern : public mlir::OpRewritePattern<OpT> {
public:
  KernelPattern(mlir::MLIRContext *ctx, const TargetInfo &target)
      : mlir::OpRewritePattern<OpT>(ctx), target(target) {}

  mlir::LogicalResult
  matchAndRewrite(OpT op, mlir::PatternRewriter &rewriter) const final;

protected:
  /// Emits the loops; `begin`/`end`: this invocation's work items along
  /// the op's parallel dimension. Errors are reported on `op`.
  virtual mlir::LogicalResult lower(OpT op, const KernelBuffers &buffers,
                                    LoopBuilder &b, mlir::Value begin,
                                    mlir::Value end) const = 0;

  const TargetInfo &target;
};

/// Finds `op`'s buffers; failure when it is not in kernel form.
mlir::FailureOr<KernelBuffers> getKernelBuffers(mlir::Operation *op);

/// The work range of `op` for `target`: its parallel extent (from its
/// kernel configuration) as a value, split by the target.
mlir::FailureOr<std::pair<mlir::Value, mlir::Value>>
getWorkRange(mlir::Operation *op, const KernelBuffers &buffers, LoopBuilder &b,
             const TargetInfo &target);

template <typename OpT>
mlir::LogicalResult
KernelPattern<OpT>::matchAndRewrite(OpT op,
                                    mlir::PatternRewriter &rewriter) const {
  mlir::FailureOr<KernelBuffers> buffers = getKernelBuffers(op);
  if (mlir::failed(buffers))
    return rewriter.notifyMatchFailure(op, "not a kernel op");
  rewriter.setInsertionPoint(op);
  LoopBuilder b(rewriter, op.getLoc());
  auto range = getWorkRange(op, *buffers, b, target);
  if (mlir::failed(range) ||
      mlir::failed(lower(op, *buffers, b, range->first, range->second)))
    return mlir::failure();
  for (mlir::Operation *binding : buffers->bindings)
    if (llvm::isa<plan::StoreOp>(binding))
      rewriter.eraseOp(binding);
  rewriter.eraseOp(op);
  return mlir::success();
}

} // namespace llmc

#endif // LLMC_LIB_CONVERSION_TRANSFORMERTOLOOPS_KERNELLOWERING_H
