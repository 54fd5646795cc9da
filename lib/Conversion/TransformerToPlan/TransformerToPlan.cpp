//===- TransformerToPlan.cpp - kernels + a launch plan from the step -----===//
//
// Outlines every kernel op of the step into a kernel function (emitted once
// per distinct kernel), assigns every value a buffer, and writes the step
// as an ordered list of launches.
//
//===----------------------------------------------------------------------===//
#include "StepDims.h"

#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Dialect/Transformer/Utils/ParallelExtent.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/StringMap.h"

namespace llmc {
#define GEN_PASS_DEF_CONVERTTRANSFORMERTOPLAN
#include "llmc/Conversion/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using schema::BufferSpace;
using schema::StepDim;

namespace {

MemRefType memrefOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return MemRefType::get(t.getShape(), t.getElementType());
}

class PlanBuilder {
public:
  PlanBuilder(ModuleOp module, tfm::StepSignature step)
      : module(module), step(step), dims(step), b(module.getContext()),
        tfmDialect(tfm::dialect(module.getContext())) {}

  LogicalResult run();

private:
  FailureOr<plan::BufferAttr> bufferOf(Value v);
  FailureOr<plan::BufferAttr> arenaBuffer(Value v);
  FailureOr<plan::ExtentAttr> extentOf(Operation *op,
                                       tfm::KernelConfigAttrInterface config);
  /// The kernel for `op` (reused when an identical one exists) and the
  /// values its arguments are, in order.
  FailureOr<FlatSymbolRefAttr> outline(Operation *op,
                                       SmallVectorImpl<Value> &args);
  LogicalResult checkInPlace(Operation *op, Value cache);

  ModuleOp module;
  tfm::StepSignature step;
  StepDims dims;
  OpBuilder b;
  tfm::TransformerDialect &tfmDialect;
  tfm::ArenaAttr arena;
  DenseMap<Value, plan::BufferAttr> buffers;
  llvm::StringMap<plan::WeightAttr> weights;
  SmallVector<Attribute> weightList;
  int64_t weightsBytes = 0;
  llvm::StringMap<FlatSymbolRefAttr> kernelByText;
  llvm::StringMap<unsigned> kernelCount;
};

FailureOr<plan::BufferAttr> PlanBuilder::arenaBuffer(Value v) {
  Operation *def = v.getDefiningOp();
  unsigned n = cast<OpResult>(v).getResultNumber();
  DenseI64ArrayAttr offsets =
      tfmDialect.getArenaOffsetsAttrHelper().getAttr(def);
  if (!offsets || offsets[n] < 0)
    return def->emitOpError() << "has no arena offset for result #" << n
                              << " (tfm-plan-memory plans every result)";
  FailureOr<SmallVector<StepDim>> d = dims.of(v);
  if (failed(d))
    return failure();
  for (StepDim s : *d)
    if (s != StepDim::Tokens && s != StepDim::LogitsRows)
      return def->emitOpError()
             << "result #" << n << " varies with the step's "
             << schema::nameOf(s).data()
             << ": the arena holds only values sized by its tokens";
  auto type = cast<RankedTensorType>(v.getType());
  std::optional<int64_t> bytes = tfm::boundedBytes(type, arena.getMaxTokens());
  if (!bytes || offsets[n] + *bytes > arena.getBytes())
    return def->emitOpError()
           << "result #" << n << " at arena offset " << offsets[n]
           << " does not fit the " << arena.getBytes() << "-byte arena";
  return plan::BufferAttr::get(b.getContext(), BufferSpace::Arena, offsets[n],
                               memrefOf(v), *d);
}

FailureOr<plan::BufferAttr> PlanBuilder::bufferOf(Value v) {
  if (plan::BufferAttr known = buffers.lookup(v))
    return known;
  MLIRContext *ctx = b.getContext();
  FailureOr<plan::BufferAttr> result = failure();
  auto withDims = [&](BufferSpace space,
                      int64_t index) -> FailureOr<plan::BufferAttr> {
    FailureOr<SmallVector<StepDim>> d = dims.of(v);
    if (failed(d))
      return failure();
    return plan::BufferAttr::get(ctx, space, index, memrefOf(v), *d);
  };
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    unsigned n = arg.getArgNumber();
    result =
        n < tfm::StepSignature::kNumInputs
            ? withDims(BufferSpace::Input, n)
            : withDims(BufferSpace::Kv, n - tfm::StepSignature::kNumInputs);
  } else if (auto w = v.getDefiningOp<tfm::WeightOp>()) {
    tfm::WeightRecipeAttr recipe = w.getRecipe();
    plan::WeightAttr packed = weights.lookup(recipe.getName());
    if (!packed) {
      packed = plan::WeightAttr::get(ctx, weightsBytes, recipe);
      weights[recipe.getName()] = packed;
      weightList.push_back(packed);
      auto t = recipe.getType();
      weightsBytes +=
          schema::alignUp(t.getNumElements() * t.getElementTypeBitWidth() / 8);
    } else if (packed.getRecipe() != recipe) {
      return w.emitOpError() << "names weight '" << recipe.getName()
                             << "' with another recipe than an earlier "
                                "tfm.weight of that name";
    }
    result = withDims(BufferSpace::Weights, packed.getOffset());
  } else if (auto r = v.getDefiningOp<tfm::ReshapeOp>()) {
    FailureOr<plan::BufferAttr> of = bufferOf(r.getInput());
    FailureOr<SmallVector<StepDim>> d = dims.of(v);
    if (failed(of) || failed(d))
      return failure();
    result = of->withType(memrefOf(v), *d);
  } else if (step.hasLogits() && v == step.getLogits()) {
    result = withDims(BufferSpace::Output, 0);
  } else if (auto w = v.getDefiningOp<tfm::KVCacheWriteOp>()) {
    result = bufferOf(w.getCache());
  } else if (auto q = v.getDefiningOp<tfm::QKVRopeCacheOp>();
             q && v != q.getQuery()) {
    result =
        bufferOf(v == q.getKeyCacheOut() ? q.getKeyCache() : q.getValueCache());
  } else {
    result = arenaBuffer(v);
  }
  if (succeeded(result))
    buffers[v] = *result;
  return result;
}

FailureOr<plan::ExtentAttr>
PlanBuilder::extentOf(Operation *op, tfm::KernelConfigAttrInterface config) {
  FailureOr<tfm::ParallelExtent> e =
      tfm::getParallelExtent(op, config.getParallel());
  if (failed(e))
    return failure();
  std::optional<StepDim> dim;
  if (e->sizeOf) {
    FailureOr<StepDim> d = dims.of(e->sizeOf, e->dim);
    if (failed(d))
      return failure();
    dim = *d;
  }
  if (e->scale < 1)
    return op->emitOpError() << "has no work items";
  return plan::ExtentAttr::get(b.getContext(), e->scale, dim);
}

LogicalResult PlanBuilder::checkInPlace(Operation *op, Value cache) {
  if (!cache.hasOneUse())
    return op->emitOpError() << "updates a KV cache in place that has other "
                                "uses; its old value would be lost";
  return success();
}

FailureOr<FlatSymbolRefAttr>
PlanBuilder::outline(Operation *op, SmallVectorImpl<Value> &args) {
  // Arguments: the distinct operands, then the results that are not the
  // in-place update of an operand.
  DenseMap<Value, unsigned> argIndex;
  auto addArg = [&](Value v) {
    auto [it, isNew] = argIndex.try_emplace(v, args.size());
    if (isNew)
      args.push_back(v);
    return it->second;
  };
  for (Value operand : op->getOperands())
    addArg(operand);
  SmallVector<unsigned> storeTo;
  for (Value r : op->getResults()) {
    Value inPlaceOf;
    if (auto w = dyn_cast<tfm::KVCacheWriteOp>(op))
      inPlaceOf = w.getCache();
    else if (auto q = dyn_cast<tfm::QKVRopeCacheOp>(op); q && r != q.getQuery())
      inPlaceOf = r == q.getKeyCacheOut() ? q.getKeyCache() : q.getValueCache();
    if (inPlaceOf && failed(checkInPlace(op, inPlaceOf)))
      return failure();
    storeTo.push_back(inPlaceOf ? argIndex.lookup(inPlaceOf) : addArg(r));
  }

  SmallVector<Type> argTypes;
  for (Value a : args)
    argTypes.push_back(memrefOf(a));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(step.getFunc());
  auto kernel = func::FuncOp::create(b, op->getLoc(), "__candidate",
                                     b.getFunctionType(argTypes, {}));
  plan::dialect(b.getContext())
      .getKernelAttrHelper()
      .setAttr(kernel, b.getUnitAttr());
  Block *entry = kernel.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping mapping;
  for (Value operand : op->getOperands())
    if (!mapping.contains(operand))
      mapping.map(operand, plan::LoadOp::create(
                               b, op->getLoc(), operand.getType(),
                               entry->getArgument(argIndex.lookup(operand))));
  Operation *clone = b.clone(*op, mapping);
  tfmDialect.getArenaOffsetsAttrHelper().removeAttr(clone);
  for (auto [r, to] : llvm::zip(clone->getResults(), storeTo))
    plan::StoreOp::create(b, op->getLoc(), r, entry->getArgument(to));
  func::ReturnOp::create(b, op->getLoc());

  // Identical kernels print the same (locations are not printed).
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel->print(os, OpPrintingFlags().useLocalScope());
  if (FlatSymbolRefAttr existing = kernelByText.lookup(text)) {
    kernel.erase();
    return existing;
  }
  StringRef opName = op->getName().stripDialect();
  std::string name = (opName + "_" + Twine(kernelCount[opName]++)).str();
  kernel.setSymName(name);
  auto ref = FlatSymbolRefAttr::get(b.getContext(), name);
  kernelByText[text] = ref;
  return ref;
}

LogicalResult PlanBuilder::run() {
  arena = tfmDialect.getArenaAttrHelper().getAttr(module);
  if (!arena)
    return module.emitError()
           << "the step has no arena plan (run tfm-plan-memory first)";
  func::FuncOp func = step.getFunc();
  Block &body = func.getBody().front();

  if (step.hasLogits()) {
    Operation *logitsDef = step.getLogits().getDefiningOp();
    if (!logitsDef || isa<tfm::WeightOp, tfm::ReshapeOp>(logitsDef))
      return step.getReturn()->emitOpError()
             << "the logits must be computed by one of the step's kernels";
    // The output holds a row per logits index, not per token.
    FailureOr<StepDim> rows = dims.of(step.getLogits(), 0);
    if (failed(rows))
      return failure();
    if (*rows != StepDim::LogitsRows)
      return step.getReturn()->emitOpError()
             << "the logits have a row per " << schema::nameOf(*rows).data()
             << " but the output holds a row per logits index (gather the "
                "rows that need logits with tfm.gather_last_tokens)";
  }

  b.setInsertionPointToEnd(module.getBody());
  auto program = plan::ProgramOp::create(
      b, func.getLoc(), func.getSymName(), arena.getBytes(),
      arena.getMaxTokens(), /*weights_bytes=*/0, b.getArrayAttr({}),
      b.getArrayAttr({}),
      step.hasLogits() ? step.getLogitsType().getDimSize(1) : 0);
  Block *launches = b.createBlock(&program.getBody());

  for (Operation &op : body.without_terminator()) {
    if (isa<tfm::WeightOp, tfm::ReshapeOp>(op))
      continue;
    if (isa<tfm::SampleOp>(op))
      return op.emitOpError()
             << "has no plan entry (sampling runs in the runtime)";
    if (isa<tfm::SendOp, tfm::RecvOp>(op)) {
      // Point to point between pipeline stages: the communicator's, on the
      // sent or received buffer.
      bool send = isa<tfm::SendOp>(op);
      FailureOr<plan::BufferAttr> buf =
          bufferOf(send ? op.getOperand(0) : op.getResult(0));
      if (failed(buf))
        return failure();
      if (buf->getSpace() != BufferSpace::Arena)
        return op.emitOpError() << "hands on a value outside the arena";
      int64_t peer = send ? cast<tfm::SendOp>(op).getPeer()
                          : cast<tfm::RecvOp>(op).getPeer();
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(launches);
      plan::CollectiveOp::create(b, op.getLoc(), send ? "send" : "recv",
                                 b.getArrayAttr({*buf}), IntegerAttr(),
                                 b.getI64IntegerAttr(peer));
      continue;
    }
    if (isa<tfm::AllReduceOp, tfm::AllGatherOp>(op)) {
      // A collective: the communicator's, on the input and result buffers.
      FailureOr<plan::BufferAttr> in = bufferOf(op.getOperand(0));
      FailureOr<plan::BufferAttr> out = bufferOf(op.getResult(0));
      if (failed(in) || failed(out))
        return failure();
      auto gather = dyn_cast<tfm::AllGatherOp>(op);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(launches);
      plan::CollectiveOp::create(
          b, op.getLoc(), gather ? "all_gather" : "all_reduce",
          b.getArrayAttr({*in, *out}),
          gather ? b.getI64IntegerAttr(gather.getAxis()) : IntegerAttr(),
          IntegerAttr());
      continue;
    }
    auto config = tfmDialect.getKernelConfigAttrHelper().getAttr(&op);
    if (!config)
      return op.emitOpError() << "has no kernel configuration (run a target's "
                                 "kernel configuration first, e.g. "
                                 "llmc-cpu-configure-kernels)";
    SmallVector<Value> argValues;
    FailureOr<FlatSymbolRefAttr> kernel = outline(&op, argValues);
    FailureOr<plan::ExtentAttr> extent = extentOf(&op, config);
    if (failed(kernel) || failed(extent))
      return failure();
    SmallVector<Attribute> args;
    for (Value v : argValues) {
      FailureOr<plan::BufferAttr> buf = bufferOf(v);
      if (failed(buf))
        return failure();
      args.push_back(*buf);
    }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(launches);
    plan::LaunchOp::create(b, op.getLoc(), *kernel, b.getArrayAttr(args),
                           *extent, /*threads=*/IntegerAttr());
  }

  // Every cache comes back as its own in-place update.
  for (unsigned i = 0; i < step.getNumCaches(); ++i) {
    FailureOr<plan::BufferAttr> buf = bufferOf(step.getCacheResult(i));
    if (failed(buf))
      return failure();
    if (buf->getSpace() != BufferSpace::Kv ||
        buf->getIndex() != static_cast<int64_t>(i))
      return step.getReturn()->emitOpError()
             << "result #" << i + 1
             << " must be the in-place update of cache operand #"
             << i + tfm::StepSignature::kNumInputs;
  }

  SmallVector<Attribute> caches;
  for (unsigned i = 0; i < step.getNumCaches(); ++i)
    caches.push_back(TypeAttr::get(step.getCacheType(i)));
  program.setWeightsBytes(weightsBytes);
  program.setWeightsAttr(b.getArrayAttr(weightList));
  program.setKvCachesAttr(b.getArrayAttr(caches));
  func.erase();
  return success();
}

struct ConvertTransformerToPlan
    : llmc::impl::ConvertTransformerToPlanBase<ConvertTransformerToPlan> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<tfm::StepSignature> step = tfm::StepSignature::find(module);
    if (failed(step) || failed(PlanBuilder(module, *step).run()))
      signalPassFailure();
  }
};

} // namespace
