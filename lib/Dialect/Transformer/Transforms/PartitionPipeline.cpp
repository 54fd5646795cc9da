//===- PartitionPipeline.cpp - one pipeline stage's layers of the step ----===//
//
// Pipeline parallelism as a rewrite of the step: find the layer boundaries
// (where only the residual stream is alive), split the layers into
// contiguous ranges balanced by a per-token cost estimate, and keep one
// range, receiving its input from the previous stage and sending its output
// to the next (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "llmc/Dialect/Transformer/Utils/CostModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#include <limits>

namespace llmc {
#define GEN_PASS_DEF_PARTITIONPIPELINE
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// The context length attention is costed at (per token it reads that many
/// keys and values).
constexpr int64_t kNominalContext = 256;

/// Per-token work of one op, attention over the nominal context.
int64_t costOf(Operation *op) {
  int64_t flops = tfm::flopsPerToken(op);
  return isa<tfm::AttentionOp>(op) ? flops * kNominalContext : flops;
}

/// One stage's layers [begin, end) over `costs`, for each of `pp` stages:
/// contiguous, non-empty, the largest sum as small as it can be.
SmallVector<std::pair<int64_t, int64_t>> balance(ArrayRef<int64_t> costs,
                                                 int64_t pp) {
  int64_t n = static_cast<int64_t>(costs.size());
  SmallVector<int64_t> prefix(n + 1, 0);
  for (int64_t i = 0; i < n; ++i)
    prefix[i + 1] = prefix[i] + costs[i];
  constexpr int64_t kInf = std::numeric_limits<int64_t>::max();
  // best[k][j]: the least largest cost of the first j segments in k stages;
  // from[k][j]: where the k-th stage starts.
  std::vector<std::vector<int64_t>> best(pp + 1,
                                         std::vector<int64_t>(n + 1, kInf)),
      from(pp + 1, std::vector<int64_t>(n + 1, 0));
  best[0][0] = 0;
  for (int64_t k = 1; k <= pp; ++k)
    for (int64_t j = k; j <= n; ++j)
      for (int64_t i = k - 1; i < j; ++i) {
        if (best[k - 1][i] == kInf)
          continue;
        int64_t c = std::max(best[k - 1][i], prefix[j] - prefix[i]);
        if (c < best[k][j]) {
          best[k][j] = c;
          from[k][j] = i;
        }
      }
  SmallVector<std::pair<int64_t, int64_t>> ranges(pp);
  for (int64_t k = pp, j = n; k > 0; --k) {
    ranges[k - 1] = {from[k][j], j};
    j = from[k][j];
  }
  return ranges;
}

class Partitioner {
public:
  Partitioner(tfm::StepSignature step, int64_t pp, int64_t stage)
      : step(step), pp(pp), stage(stage) {}

  LogicalResult run();

private:
  tfm::StepSignature step;
  int64_t pp, stage;
};

LogicalResult Partitioner::run() {
  func::FuncOp func = step.getFunc();
  Block &body = func.getBody().front();
  Operation *ret = step.getReturn();
  if (!step.hasLogits())
    return func.emitOpError()
           << "is a pipeline stage already; partition the whole step once";
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  DenseMap<Operation *, int64_t> index;
  for (auto [i, op] : llvm::enumerate(ops))
    index[op] = static_cast<int64_t>(i);

  SmallVector<int64_t> attention;
  for (auto [i, op] : llvm::enumerate(ops))
    if (isa<tfm::AttentionOp>(op))
      attention.push_back(static_cast<int64_t>(i));
  int64_t layers = static_cast<int64_t>(attention.size());
  if (layers == 0)
    return func.emitOpError()
           << "has no layers (tfm.attention) to split into pipeline stages";
  if (pp > layers)
    return func.emitOpError()
           << "cannot be split into --pp " << pp << " pipeline stages: it has "
           << layers << " layer" << (layers == 1 ? "" : "s")
           << ", and every stage needs at least one";

  // Values that depend on the token ids: the stream a stage hands on.
  // Everything else (weights, position-only values) each stage can
  // compute for itself.
  DenseSet<Value> dependent;
  dependent.insert(step.getInput(tfm::StepInput::TokenIds));
  for (Operation *op : ops)
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return dependent.contains(v); }))
      for (Value r : op->getResults())
        dependent.insert(r);
  // The last op reading each value; the caches' returned updates do not
  // keep them alive (each stage returns its own).
  DenseMap<Value, int64_t> lastUse;
  for (Operation *op : ops)
    for (Value v : op->getOperands())
      lastUse[v] = index[op];
  lastUse[step.getLogits()] = static_cast<int64_t>(ops.size());

  // cut[i]: after op i only one dependent value (of [tokens, x]) is alive.
  DenseMap<int64_t, Value> cuts;
  llvm::SetVector<Value> live;
  for (auto [i, op] : llvm::enumerate(ops)) {
    for (Value r : op->getResults())
      if (dependent.contains(r) && lastUse.lookup(r) > static_cast<int64_t>(i))
        live.insert(r);
    live.remove_if([&, i = i](Value v) {
      return lastUse.lookup(v) <= static_cast<int64_t>(i);
    });
    if (live.size() != 1)
      continue;
    auto ty = dyn_cast<RankedTensorType>(live.front().getType());
    if (ty && ty.getRank() == 2 && ty.isDynamicDim(0) && !ty.isDynamicDim(1) &&
        ty.getElementType().isF32())
      cuts[static_cast<int64_t>(i)] = live.front();
  }
  // boundary[l]: the cut before layer l (l >= 1).
  SmallVector<int64_t> boundary(layers, -1);
  for (int64_t l = 1; l < layers; ++l) {
    // The latest stream value handed on, as soon as it is made.
    for (int64_t i = attention[l] - 1; i > attention[l - 1]; --i)
      if (cuts.count(i)) {
        while (i - 1 > attention[l - 1] && cuts.count(i - 1) &&
               cuts.lookup(i - 1) == cuts.lookup(i))
          --i;
        boundary[l] = i;
        break;
      }
    if (boundary[l] < 0)
      return ops[attention[l]]->emitOpError()
             << "starts layer " << l
             << ", but no single [tokens, hidden] value is all that layers "
                "before it hand on, so the step cannot be split there";
  }

  // Segment l: ops (boundary[l], boundary[l + 1]], the first from the
  // start, the last to the end.
  auto segBegin = [&](int64_t l) { return l == 0 ? 0 : boundary[l] + 1; };
  auto segEnd = [&](int64_t l) {
    return l + 1 == layers ? static_cast<int64_t>(ops.size())
                           : boundary[l + 1] + 1;
  };
  SmallVector<int64_t> costs;
  for (int64_t l = 0; l < layers; ++l) {
    int64_t c = 0;
    for (int64_t i = segBegin(l); i < segEnd(l); ++i)
      c += costOf(ops[i]);
    costs.push_back(c);
  }
  auto [firstLayer, endLayer] = balance(costs, pp)[stage];
  int64_t begin = segBegin(firstLayer), end = segEnd(endLayer - 1);

  // Kept: the range, and what its ops read from before it that does not
  // depend on the token ids (weights, position-only values).
  DenseSet<Operation *> kept;
  SmallVector<Operation *> work;
  for (int64_t i = begin; i < end; ++i) {
    kept.insert(ops[i]);
    work.push_back(ops[i]);
  }
  Value in = begin > 0 ? cuts.lookup(begin - 1) : Value();
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (!def || v == in || kept.contains(def))
        continue;
      if (dependent.contains(v))
        return op->emitOpError()
               << "reads a value of an earlier pipeline stage besides the "
                  "one handed on";
      kept.insert(def);
      work.push_back(def);
    }
  }

  OpBuilder b(func.getContext());
  if (in) {
    b.setInsertionPoint(ops[begin]);
    auto recv =
        tfm::RecvOp::create(b, in.getLoc(), in.getType(),
                            step.getInput(tfm::StepInput::TokenIds), stage - 1);
    in.replaceUsesWithIf(recv.getResult(), [&](OpOperand &use) {
      return kept.contains(use.getOwner());
    });
  }
  SmallVector<Value> results;
  bool last = stage + 1 == pp;
  if (last) {
    results.push_back(step.getLogits());
  } else {
    Value out = cuts.lookup(end - 1);
    b.setInsertionPointAfter(ops[end - 1]);
    tfm::SendOp::create(b, out.getLoc(), out, stage + 1);
  }
  // The caches this stage writes, in order; the others leave the step.
  llvm::BitVector drop(func.getNumArguments());
  for (unsigned c = 0; c < step.getNumCaches(); ++c) {
    Value r = step.getCacheResult(c);
    Operation *def = r.getDefiningOp();
    if (def && kept.contains(def))
      results.push_back(r);
    else
      drop.set(tfm::StepSignature::kNumInputs + c);
  }
  ret->setOperands(results);
  for (Operation *op : llvm::reverse(ops))
    if (!kept.contains(op)) {
      op->dropAllUses();
      op->erase();
    }
  for (unsigned c = 0; c < step.getNumCaches(); ++c)
    if (drop.test(tfm::StepSignature::kNumInputs + c) &&
        !func.getArgument(tfm::StepSignature::kNumInputs + c).use_empty())
      return func.emitOpError()
             << "reads cache operand #" << tfm::StepSignature::kNumInputs + c
             << " in pipeline stage " << stage
             << " but another stage writes it";
  for (Operation &op : llvm::make_early_inc_range(body))
    if (isa<tfm::WeightOp>(op) && op.use_empty())
      op.erase();
  if (failed(func.eraseArguments(drop)))
    return failure();
  func.setType(FunctionType::get(func.getContext(), body.getArgumentTypes(),
                                 ret->getOperandTypes()));
  return success();
}

struct PartitionPipeline
    : llmc::impl::PartitionPipelineBase<PartitionPipeline> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (pp < 1 || stage < 0 || stage >= pp) {
      module.emitError() << "tfm-partition-pipeline: stage "
                         << static_cast<int64_t>(stage) << " of pp "
                         << static_cast<int64_t>(pp)
                         << " (need 0 <= stage < pp)";
      return signalPassFailure();
    }
    FailureOr<tfm::StepSignature> step = tfm::StepSignature::find(module);
    if (failed(step))
      return signalPassFailure();
    if (pp == 1)
      return;
    if (failed(Partitioner(*step, pp, stage).run()))
      signalPassFailure();
  }
};

} // namespace
