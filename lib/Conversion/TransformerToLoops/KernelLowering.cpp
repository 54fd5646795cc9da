//===- KernelLowering.cpp - loop builder, kernel buffers, the driver ------===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <functional>

using namespace mlir;

namespace llmc {

TargetInfo::~TargetInfo() = default;

//===----------------------------------------------------------------------===//
// LoopBuilder
//===----------------------------------------------------------------------===//

Value LoopBuilder::idx(int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}
Value LoopBuilder::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}
Value LoopBuilder::dim(Value m, int64_t i) {
  auto ty = cast<MemRefType>(m.getType());
  if (!ty.isDynamicDim(i))
    return idx(ty.getDimSize(i));
  return memref::DimOp::create(b, loc, m, i);
}
SmallVector<Value> LoopBuilder::dims(Value m) {
  SmallVector<Value> out;
  for (int64_t i = 0, e = cast<MemRefType>(m.getType()).getRank(); i < e; ++i)
    out.push_back(dim(m, i));
  return out;
}
// Narrow floats (bf16, f16 weights) are storage only: widened to f32 as
// they are loaded, narrowed as they are stored; kernels compute in f32.
Value LoopBuilder::load(Value m, ValueRange ivs) {
  Value v = memref::LoadOp::create(b, loc, m, ivs);
  if (auto f = dyn_cast<FloatType>(v.getType()); f && f.getWidth() < 32)
    return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  return v;
}
void LoopBuilder::store(Value v, Value m, ValueRange ivs) {
  Type elem = cast<MemRefType>(m.getType()).getElementType();
  if (auto f = dyn_cast<FloatType>(elem); f && f != v.getType())
    v = arith::TruncFOp::create(b, loc, elem, v);
  memref::StoreOp::create(b, loc, v, m, ivs);
}
Value LoopBuilder::loadIndex(Value m, ValueRange ivs) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), load(m, ivs));
}
Value LoopBuilder::weightAt(Value w, Value row, Value k) {
  Value v = load(w, {row, k});
  if (v.getType().isInteger(8))
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), v);
  return v;
}
Value LoopBuilder::rowScale(Value w, Value row, Value kdim) {
  if (!cast<MemRefType>(w.getType()).getElementType().isInteger(8))
    return Value();
  Value bits;
  for (int64_t i = 0; i < 4; ++i) {
    Value byte =
        memref::LoadOp::create(b, loc, w, ValueRange{row, addi(kdim, idx(i))});
    Value word = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
    if (i)
      word = arith::ShLIOp::create(
          b, loc, word, arith::ConstantIntOp::create(b, loc, 8 * i, 32));
    bits = bits ? arith::OrIOp::create(b, loc, bits, word).getResult() : word;
  }
  return arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
}
Value LoopBuilder::add(Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
Value LoopBuilder::sub(Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}
Value LoopBuilder::mul(Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
Value LoopBuilder::div(Value x, Value y) {
  return arith::DivFOp::create(b, loc, x, y);
}
Value LoopBuilder::addi(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value LoopBuilder::subi(Value x, Value y) {
  return arith::SubIOp::create(b, loc, x, y);
}
Value LoopBuilder::muli(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
Value LoopBuilder::divui(Value x, Value y) {
  return arith::DivUIOp::create(b, loc, x, y);
}
Value LoopBuilder::minui(Value x, Value y) {
  return arith::MinUIOp::create(b, loc, x, y);
}
Value LoopBuilder::clamp(Value x, Value lo, Value hi) {
  return arith::MinSIOp::create(b, loc, arith::MaxSIOp::create(b, loc, x, lo),
                                hi);
}
Value LoopBuilder::dotStep(Value acc, Value x, Value y) {
  auto fm = arith::FastMathFlagsAttr::get(b.getContext(),
                                          arith::FastMathFlags::reassoc |
                                              arith::FastMathFlags::contract);
  Value prod = arith::MulFOp::create(b, loc, x, y, fm);
  return arith::AddFOp::create(b, loc, acc, prod, fm);
}
Value LoopBuilder::silu(Value x) {
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
  return div(x, add(f32(1), e));
}
Value LoopBuilder::gelu(Value x, bool tanhForm) {
  if (tanhForm) {
    Value inner = mul(f32(std::sqrt(2.0 / M_PI)),
                      add(x, mul(f32(0.044715), mul(x, mul(x, x)))));
    return mul(mul(f32(0.5), x),
               add(f32(1), math::TanhOp::create(b, loc, inner)));
  }
  Value e = math::ErfOp::create(b, loc, mul(x, f32(M_SQRT1_2)));
  return mul(mul(f32(0.5), x), add(f32(1), e));
}

void LoopBuilder::loop(Value lb, Value ub, function_ref<void(Value)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1));
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

Value LoopBuilder::reduce(Value lb, Value ub, Value init,
                          function_ref<Value(Value, Value)> body) {
  auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1), ValueRange{init});
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(forOp.getBody());
  Value next = body(forOp.getInductionVar(), forOp.getRegionIterArgs()[0]);
  scf::YieldOp::create(b, loc, next);
  return forOp.getResult(0);
}

void LoopBuilder::loopNest(ArrayRef<Value> ubs, Body body, int64_t ranged,
                           Value begin, Value end) {
  SmallVector<Value> ivs;
  std::function<void(size_t)> rec = [&](size_t d) {
    if (d == ubs.size()) {
      body(ivs);
      return;
    }
    Value lb = idx(0), ub = ubs[d];
    if (static_cast<int64_t>(d) == ranged)
      std::tie(lb, ub) = std::make_pair(begin, end);
    loop(lb, ub, [&](Value iv) {
      ivs.push_back(iv);
      rec(d + 1);
      ivs.pop_back();
    });
  };
  rec(0);
}

void LoopBuilder::blocked(Value lb, Value ub, int64_t block,
                          function_ref<void(ArrayRef<Value>)> body) {
  Value full = addi(lb, muli(divui(subi(ub, lb), idx(block)), idx(block)));
  auto blockLoop = scf::ForOp::create(b, loc, lb, full, idx(block));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(blockLoop.getBody());
    SmallVector<Value> ivs;
    for (int64_t i = 0; i < block; ++i)
      ivs.push_back(addi(blockLoop.getInductionVar(), idx(i)));
    body(ivs);
  }
  loop(full, ub, [&](Value iv) { body({iv}); });
}

void LoopBuilder::atSlot(Value slots, Value t, int64_t blockSize,
                         function_ref<void(Value, Value)> body) {
  Value slot = load(slots, {t});
  Value valid = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::sge, slot,
      arith::ConstantOp::create(b, loc, b.getIntegerAttr(slot.getType(), 0)));
  auto ifOp = scf::IfOp::create(b, loc, valid, /*withElse=*/false);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  Value s = arith::IndexCastOp::create(b, loc, b.getIndexType(), slot);
  body(divui(s, idx(blockSize)),
       arith::RemUIOp::create(b, loc, s, idx(blockSize)));
}

Value LoopBuilder::collapse(Value m, int64_t keep) {
  auto ty = cast<MemRefType>(m.getType());
  int64_t rank = ty.getRank();
  if (rank == keep + 1)
    return m;
  Value lead = idx(1);
  for (int64_t i = 0; i < rank - keep; ++i)
    lead = muli(lead, dim(m, i));
  SmallVector<OpFoldResult> sizes{lead};
  SmallVector<int64_t> shape{ShapedType::kDynamic};
  for (int64_t i = rank - keep; i < rank; ++i) {
    sizes.push_back(b.getIndexAttr(ty.getDimSize(i)));
    shape.push_back(ty.getDimSize(i));
  }
  SmallVector<OpFoldResult> strides(shape.size());
  int64_t stride = 1;
  for (int64_t i = shape.size() - 1; i >= 0; --i) {
    strides[i] = b.getIndexAttr(stride);
    stride *= ShapedType::isDynamic(shape[i]) ? 1 : shape[i];
  }
  return memref::ReinterpretCastOp::create(
      b, loc, MemRefType::get(shape, ty.getElementType()), m, b.getIndexAttr(0),
      sizes, strides);
}

//===----------------------------------------------------------------------===//
// Kernel buffers and work range
//===----------------------------------------------------------------------===//

Value KernelBuffers::of(Value v) const {
  for (auto [i, operand] : llvm::enumerate(op->getOperands()))
    if (operand == v)
      return operands[i];
  for (auto [i, r] : llvm::enumerate(op->getResults()))
    if (r == v)
      return results[i];
  return {};
}

FailureOr<KernelBuffers> getKernelBuffers(Operation *op) {
  auto kernel = op->getParentOfType<func::FuncOp>();
  if (!kernel || !plan::isKernel(kernel))
    return failure();
  KernelBuffers k;
  k.op = op;
  for (Value operand : op->getOperands()) {
    auto load = operand.getDefiningOp<plan::LoadOp>();
    if (!load)
      return failure();
    k.operands.push_back(load.getSource());
    k.bindings.push_back(load);
  }
  for (Value r : op->getResults()) {
    if (!r.hasOneUse())
      return failure();
    auto store = dyn_cast<plan::StoreOp>(*r.getUsers().begin());
    if (!store)
      return failure();
    k.results.push_back(store.getDest());
    k.bindings.push_back(store);
  }
  return k;
}

FailureOr<std::pair<Value, Value>> getWorkRange(Operation *op,
                                                const KernelBuffers &buffers,
                                                LoopBuilder &b,
                                                const TargetInfo &target) {
  auto config =
      tfm::dialect(op->getContext()).getKernelConfigAttrHelper().getAttr(op);
  if (!config)
    return op->emitOpError() << "has no kernel configuration";
  FailureOr<tfm::ParallelExtent> e =
      tfm::getParallelExtent(op, config.getParallel());
  if (failed(e))
    return failure();
  Value extent = b.idx(e->scale);
  if (e->sizeOf)
    extent = b.muli(extent, b.dim(buffers.of(e->sizeOf), e->dim));
  return target.getWorkRange(b.builder(), b.getLoc(),
                             op->getParentOfType<func::FuncOp>(), extent);
}

//===----------------------------------------------------------------------===//
// The driver
//===----------------------------------------------------------------------===//

void populateKernelLoweringPatterns(RewritePatternSet &patterns,
                                    const TargetInfo &target) {
  populateNormLoweringPatterns(patterns, target);
  populatePointwiseLoweringPatterns(patterns, target);
  populateLinearLoweringPatterns(patterns, target);
  populateAttentionLoweringPatterns(patterns, target);
  populateRopeCacheLoweringPatterns(patterns, target);
  populateShapeLoweringPatterns(patterns, target);
  populateSelectionLoweringPatterns(patterns, target);
}

LogicalResult lowerKernelsToLoops(ModuleOp module, const TargetInfo &target) {
  MLIRContext *ctx = module.getContext();
  ctx->loadDialect<arith::ArithDialect, math::MathDialect,
                   memref::MemRefDialect, scf::SCFDialect>();
  SmallVector<func::FuncOp> kernels;
  for (auto func : module.getOps<func::FuncOp>())
    if (plan::isKernel(func))
      kernels.push_back(func);
  for (func::FuncOp k : kernels)
    target.prepareKernel(k);

  RewritePatternSet set(ctx);
  populateKernelLoweringPatterns(set, target);
  FrozenRewritePatternSet patterns(std::move(set));
  bool reported = false;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &d) {
    reported |= d.getSeverity() == DiagnosticSeverity::Error;
    return failure(); // let it through
  });
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingOps);
  for (func::FuncOp k : kernels) {
    SmallVector<Operation *> ops;
    k.walk([&](Operation *op) {
      if (isa<tfm::TransformerDialect>(op->getDialect()))
        ops.push_back(op);
    });
    (void)applyOpPatternsGreedily(ops, patterns, config);
    WalkResult leftover = k.walk([&](Operation *op) {
      if (!isa<tfm::TransformerDialect>(op->getDialect()))
        return WalkResult::advance();
      if (!reported)
        op->emitOpError() << "has no lowering to loops for the "
                          << target.getName() << " target";
      return WalkResult::interrupt();
    });
    if (leftover.wasInterrupted())
      return failure();
    // The loads are dead now that nothing reads their tensors.
    k.walk([](plan::LoadOp load) {
      if (load->use_empty())
        load.erase();
    });
  }
  return success();
}

} // namespace llmc
