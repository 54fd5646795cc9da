//===- ShardTensorParallel.cpp - one tensor-parallel rank's step ----------===//
//
// Megatron-style tensor parallelism as a rewrite of the step: every value
// is either whole on every rank (replicated), a rank's part along its last
// dimension (split), or a rank's partial sum (partial). Column-parallel
// linears make split values, row-parallel linears turn them into partial
// sums, and collectives go where a whole value is needed. Which linear is
// which follows from where its output goes (see Passes.td).
//
//===----------------------------------------------------------------------===//
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace llmc {
#define GEN_PASS_DEF_SHARDTENSORPARALLEL
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

/// How one rank holds a value.
enum class Layout { Replicated, Split, Partial };

/// A split value: part `index` of `count` along the last dimension (the
/// heads dimension for [tokens, heads, dim] values).
struct Part {
  int64_t count = 1, index = 0;
  bool operator==(const Part &o) const {
    return count == o.count && index == o.index;
  }
};

class Sharder {
public:
  Sharder(tfm::StepSignature step, int64_t tp, int64_t rank)
      : step(step), tp(tp), rank(rank), b(step.getFunc().getContext()) {}

  LogicalResult run();

private:
  // --- which values may be split (dataflow, before any rewrite) ---------
  bool acceptsSplit(Value v);
  bool producesSplit(Value v);
  bool onlyCaches(Value v);

  // --- the rewrite --------------------------------------------------------
  LogicalResult rewrite(Operation *op);
  LogicalResult rewriteLinear(tfm::LinearOp l);
  LogicalResult rewriteEmbedding(tfm::EmbeddingOp e);
  /// The split of a column-parallel linear's output of `units` heads or
  /// channels (`heads`: attention heads of `dim` each, or channels).
  FailureOr<Part> columnPart(tfm::LinearOp l, int64_t units, bool heads,
                             bool kvOnly);
  /// `w`'s part `part` along `axis`; `rename` gives the packed tensor
  /// another name (several parts of one checkpoint tensor in one rank).
  FailureOr<Value> shardWeight(Value w, int64_t axis, Part part,
                               StringRef rename = {});
  Value allReduce(Value v);
  void setSplit(Value v, Part p) {
    layout[v] = Layout::Split;
    parts[v] = p;
  }
  Layout layoutOf(Value v) const {
    auto it = layout.find(v);
    return it == layout.end() ? Layout::Replicated : it->second;
  }
  std::string weightName(Value w) {
    if (auto op = w.getDefiningOp<tfm::WeightOp>())
      return op.getName().str();
    return "a computed weight";
  }

  tfm::StepSignature step;
  int64_t tp, rank;
  OpBuilder b;
  DenseMap<Value, bool> accepts, produces;
  DenseMap<Value, Layout> layout;
  DenseMap<Value, Part> parts;
  DenseMap<Value, Value> reduced;
};

bool isUnarySplitOp(Operation *op) {
  return isa<tfm::ReshapeOp, tfm::RoPEOp, tfm::SiLUOp, tfm::GELUOp>(op);
}

/// Whether every use of `v` can take a rank's part of it.
bool Sharder::acceptsSplit(Value v) {
  if (auto it = accepts.find(v); it != accepts.end())
    return it->second;
  accepts[v] = false; // cycles cannot occur in one block; be safe anyway
  bool ok = !v.use_empty();
  for (OpOperand &use : v.getUses()) {
    Operation *u = use.getOwner();
    unsigned n = use.getOperandNumber();
    if (auto l = dyn_cast<tfm::LinearOp>(u)) {
      ok &=
          n == 0 && !l.getResidual() && l.getEpilogue() == tfm::Epilogue::None;
    } else if (isUnarySplitOp(u)) {
      ok &= n == 0 && acceptsSplit(u->getResult(0));
      if (auto r = dyn_cast<tfm::ReshapeOp>(u))
        ok &= r.getType().getRank() >= 2 &&
              cast<RankedTensorType>(v.getType()).getRank() >= 2;
    } else if (isa<tfm::KVCacheWriteOp>(u)) {
      ok &= n == 1; // the values, not the cache
    } else if (auto a = dyn_cast<tfm::AttentionOp>(u)) {
      ok &= n == 0 && acceptsSplit(a.getResult());
    } else if (isa<tfm::MulOp, tfm::AddOp>(u)) {
      Value other = u->getOperand(1 - n);
      ok &= other != v && producesSplit(other) && acceptsSplit(u->getResult(0));
    } else if (auto s = dyn_cast<tfm::SplitOp>(u)) {
      int64_t last = cast<RankedTensorType>(v.getType()).getRank() - 1;
      ok &= static_cast<int64_t>(s.getAxis()) == last &&
            v.getDefiningOp<tfm::LinearOp>();
      for (Value r : s.getResults())
        ok &= acceptsSplit(r);
    } else {
      ok = false;
    }
    if (!ok)
      break;
  }
  accepts[v] = ok;
  return ok;
}

/// Whether `v` can be made as a rank's part (the output of a column-
/// parallel linear, or pointwise work on such outputs).
bool Sharder::producesSplit(Value v) {
  if (auto it = produces.find(v); it != produces.end())
    return it->second;
  produces[v] = false;
  Operation *def = v.getDefiningOp();
  bool ok = false;
  if (!def)
    ok = false;
  else if (isa<tfm::LinearOp>(def))
    ok = true;
  else if (isUnarySplitOp(def))
    ok = producesSplit(def->getOperand(0));
  else if (isa<tfm::MulOp, tfm::AddOp>(def))
    ok = producesSplit(def->getOperand(0)) && producesSplit(def->getOperand(1));
  else if (auto s = dyn_cast<tfm::SplitOp>(def))
    ok = producesSplit(s.getInput());
  produces[v] = ok;
  return ok;
}

/// Whether `v` only reaches KV caches (through reshapes and rope): its
/// heads may then be replicated across ranks.
bool Sharder::onlyCaches(Value v) {
  for (OpOperand &use : v.getUses()) {
    Operation *u = use.getOwner();
    if (isa<tfm::KVCacheWriteOp>(u) && use.getOperandNumber() == 1)
      continue;
    if (isa<tfm::ReshapeOp, tfm::RoPEOp>(u) && onlyCaches(u->getResult(0)))
      continue;
    return false;
  }
  return true;
}

FailureOr<Value> Sharder::shardWeight(Value w, int64_t axis, Part part,
                                      StringRef rename) {
  auto op = w.getDefiningOp<tfm::WeightOp>();
  if (!op)
    return emitError(w.getLoc())
           << "a tensor-parallel operand must be a tfm.weight";
  tfm::WeightRecipeAttr recipe = op.getRecipe();
  if (recipe.getShard() || !recipe.getParts().empty())
    return op.emitOpError() << "is sharded or concatenated already; run "
                               "tfm-shard-tensor-parallel before fusion, once";
  RankedTensorType type = recipe.getType();
  if (part.count == 1)
    return w;
  if (type.getDimSize(axis) % part.count != 0)
    return op.emitOpError()
           << "'" << recipe.getName() << "': dimension " << axis << " of "
           << type.getDimSize(axis) << " does not split into " << part.count
           << " parts";
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] /= part.count;
  auto partType = RankedTensorType::get(shape, type.getElementType());
  auto shard =
      tfm::ShardAttr::get(b.getContext(), axis, part.index, part.count);
  SmallVector<StringAttr> sources(recipe.getSources());
  if (!rename.empty() && sources.empty())
    sources.push_back(b.getStringAttr(recipe.getName()));
  auto newRecipe = tfm::WeightRecipeAttr::get(
      b.getContext(), rename.empty() ? recipe.getName() : rename, partType,
      recipe.getTransform(), sources, recipe.getParts(), shard);
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPoint(op);
  return tfm::WeightOp::create(b, op.getLoc(), newRecipe).getResult();
}

Value Sharder::allReduce(Value v) {
  if (Value r = reduced.lookup(v))
    return r;
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointAfterValue(v);
  Value r = tfm::AllReduceOp::create(b, v.getLoc(), v.getType(), v,
                                     tfm::ReduceKind::Sum);
  reduced[v] = r;
  return r;
}

FailureOr<Part> Sharder::columnPart(tfm::LinearOp l, int64_t units, bool heads,
                                    bool kvOnly) {
  if (units % tp == 0)
    return Part{tp, rank};
  if (heads && kvOnly && tp % units == 0)
    return Part{units, rank * units / tp};
  InFlightDiagnostic d = l.emitOpError();
  d << "cannot be split over --tp " << tp << ": '" << weightName(l.getWeight())
    << "' has " << units
    << (heads ? (kvOnly ? " KV heads" : " attention heads")
              : " output channels");
  if (heads && kvOnly)
    d << " (KV heads split when tp divides them, and are replicated when "
         "they divide tp)";
  else
    d << ", which " << tp << " does not divide";
  return failure();
}

LogicalResult Sharder::rewriteEmbedding(tfm::EmbeddingOp e) {
  auto table = cast<RankedTensorType>(e.getTable().getType());
  int64_t vocab = table.getDimSize(0);
  bool tokens = e.getIds() == step.getInput(tfm::StepInput::TokenIds);
  if (!tokens || vocab % tp != 0 || e.getVocabStart())
    return success(); // replicated
  FailureOr<Value> w = shardWeight(e.getTable(), 0, Part{tp, rank});
  if (failed(w))
    return failure();
  e.getTableMutable().assign(*w);
  e.setVocabStart(rank * (vocab / tp));
  layout[e.getResult()] = Layout::Partial;
  return success();
}

LogicalResult Sharder::rewriteLinear(tfm::LinearOp l) {
  Layout in = layoutOf(l.getInput());
  auto outType = cast<RankedTensorType>(l.getType());
  int64_t outDim = outType.getRank() - 1;

  if (in == Layout::Split) {
    // Row-parallel: the columns that match the input's part, a partial
    // sum out, the bias added once (on rank 0).
    Part p = parts.lookup(l.getInput());
    if (p.count != tp)
      return l.emitOpError() << "reads a value replicated over groups of "
                                "ranks; only KV caches may be";
    FailureOr<Value> w = shardWeight(l.getWeight(), 1, p);
    if (failed(w))
      return failure();
    l.getWeightMutable().assign(*w);
    if (l.getBias() && rank != 0)
      l.getBiasMutable().clear();
    layout[l.getResult()] = Layout::Partial;
    return success();
  }

  Value logits = step.getLogits();
  bool isLogits = logits && l.getResult() == logits;
  if (!isLogits && !acceptsSplit(l.getResult()))
    return success(); // replicated

  if (isLogits) {
    int64_t vocab = outType.getDimSize(outDim);
    if (vocab % tp != 0)
      return success(); // replicated: every rank computes all logits
    FailureOr<Value> w = shardWeight(l.getWeight(), 0, Part{tp, rank});
    if (failed(w))
      return failure();
    l.getWeightMutable().assign(*w);
    if (l.getBias()) {
      FailureOr<Value> bias = shardWeight(l.getBias(), 0, Part{tp, rank});
      if (failed(bias))
        return failure();
      l.getBiasMutable().assign(*bias);
    }
    SmallVector<int64_t> shape(outType.getShape());
    shape[outDim] /= tp;
    l.getResult().setType(
        RankedTensorType::get(shape, outType.getElementType()));
    b.setInsertionPointAfter(l);
    auto gather = tfm::AllGatherOp::create(b, l.getLoc(), outType,
                                           l.getResult(), outDim, tp);
    step.getReturn()->setOperand(0, gather.getResult());
    return success();
  }

  // Column-parallel. Each consumer chain tells what the output's units
  // are: heads when it is reshaped to [tokens, heads, dim], else channels.
  auto unitsOf = [&](Value v, int64_t size, int64_t &units, bool &heads,
                     bool &kvOnly) {
    units = size;
    heads = false;
    kvOnly = false;
    for (Operation *u : v.getUsers())
      if (auto r = dyn_cast<tfm::ReshapeOp>(u))
        if (r.getType().getRank() == 3) {
          units = r.getType().getDimSize(1);
          heads = true;
          kvOnly = onlyCaches(r.getResult());
        }
  };

  if (l.getResult().hasOneUse())
    if (auto split =
            dyn_cast<tfm::SplitOp>(*l.getResult().getUsers().begin())) {
      // One column-parallel linear per part (GPT-2's fused QKV): part j's
      // rows of rank r are shard j * c + i of k * c.
      int64_t k = split.getNumResults();
      if (outType.getDimSize(outDim) % k != 0)
        return split.emitOpError() << "splits unevenly";
      b.setInsertionPoint(split);
      for (auto [j, res] : llvm::enumerate(split.getResults())) {
        auto resType = cast<RankedTensorType>(res.getType());
        int64_t units;
        bool heads, kvOnly;
        unitsOf(res, resType.getDimSize(outDim), units, heads, kvOnly);
        FailureOr<Part> p = columnPart(l, units, heads, kvOnly);
        if (failed(p))
          return failure();
        Part whole{k * p->count, static_cast<int64_t>(j) * p->count + p->index};
        auto partName = [&, j = j](Value v) {
          auto op = v.getDefiningOp<tfm::WeightOp>();
          return op ? (op.getName() + ".part" + Twine(j)).str() : std::string();
        };
        FailureOr<Value> w =
            shardWeight(l.getWeight(), 0, whole, partName(l.getWeight()));
        FailureOr<Value> bias = l.getBias() ? shardWeight(l.getBias(), 0, whole,
                                                          partName(l.getBias()))
                                            : FailureOr<Value>();
        if (failed(w) || (l.getBias() && failed(bias)))
          return failure();
        SmallVector<int64_t> shape(resType.getShape());
        shape[outDim] /= p->count;
        auto part = tfm::LinearOp::create(
            b, l.getLoc(),
            RankedTensorType::get(shape, resType.getElementType()),
            l.getInput(), *w, l.getBias() ? *bias : Value(), Value(),
            tfm::Epilogue::None);
        res.replaceAllUsesWith(part.getResult());
        setSplit(part.getResult(), *p);
      }
      split.erase();
      l.erase();
      return success();
    }

  int64_t units;
  bool heads, kvOnly;
  unitsOf(l.getResult(), outType.getDimSize(outDim), units, heads, kvOnly);
  FailureOr<Part> p = columnPart(l, units, heads, kvOnly);
  if (failed(p))
    return failure();
  FailureOr<Value> w = shardWeight(l.getWeight(), 0, *p);
  if (failed(w))
    return failure();
  l.getWeightMutable().assign(*w);
  if (l.getBias()) {
    FailureOr<Value> bias = shardWeight(l.getBias(), 0, *p);
    if (failed(bias))
      return failure();
    l.getBiasMutable().assign(*bias);
  }
  SmallVector<int64_t> shape(outType.getShape());
  shape[outDim] /= p->count;
  l.getResult().setType(RankedTensorType::get(shape, outType.getElementType()));
  setSplit(l.getResult(), *p);
  return success();
}

LogicalResult Sharder::rewrite(Operation *op) {
  if (isa<tfm::WeightOp>(op))
    return success();
  // A partial sum is reduced before anything but a collective reads it.
  for (OpOperand &o : op->getOpOperands())
    if (layoutOf(o.get()) == Layout::Partial && !isa<tfm::AllReduceOp>(op))
      o.set(allReduce(o.get()));
  if (isa<func::ReturnOp>(op))
    for (Value v : op->getOperands().drop_front(step.hasLogits() ? 1 : 0))
      if (layoutOf(v) != Layout::Split)
        return op->emitOpError() << "returns a cache that is not split";
  if (auto l = dyn_cast<tfm::LinearOp>(op))
    return rewriteLinear(l);
  if (auto e = dyn_cast<tfm::EmbeddingOp>(op))
    return rewriteEmbedding(e);
  // A pipeline stage hands on (and receives) the whole hidden states.
  if (isa<func::ReturnOp, tfm::AllReduceOp, tfm::AllGatherOp, tfm::RecvOp>(op))
    return success();
  if (auto send = dyn_cast<tfm::SendOp>(op)) {
    if (layoutOf(send.getInput()) == Layout::Split)
      return send.emitOpError() << "sends a rank's part of a value to the "
                                   "next pipeline stage; only whole values "
                                   "are handed on";
    return success();
  }

  SmallVector<Value> split;
  for (Value v : op->getOperands())
    if (layoutOf(v) == Layout::Split)
      split.push_back(v);
  if (split.empty())
    return success(); // all replicated: computed whole on every rank
  Part p = parts.lookup(split.front());

  if (auto r = dyn_cast<tfm::ReshapeOp>(op)) {
    // The part is along dimension 1 both sides ([tokens, x] and
    // [tokens, heads, dim]).
    auto in = cast<RankedTensorType>(r.getInput().getType());
    auto out = r.getType();
    SmallVector<int64_t> shape(out.getShape());
    int64_t inRest = 1, outRest = 1;
    for (int64_t d = 2; d < in.getRank(); ++d)
      inRest *= in.getDimSize(d);
    for (int64_t d = 2; d < out.getRank(); ++d)
      outRest *= out.getDimSize(d);
    int64_t elems = in.getDimSize(1) * inRest;
    if (elems % outRest != 0)
      return r.emitOpError() << "cannot keep a rank's part of " << in;
    shape[1] = elems / outRest;
    r.getResult().setType(RankedTensorType::get(shape, out.getElementType()));
    setSplit(r.getResult(), p);
    return success();
  }
  if (isa<tfm::RoPEOp, tfm::SiLUOp, tfm::GELUOp>(op)) {
    op->getResult(0).setType(op->getOperand(0).getType());
    setSplit(op->getResult(0), p);
    return success();
  }
  if (isa<tfm::MulOp, tfm::AddOp>(op)) {
    if (split.size() != 2 || !(parts.lookup(split[1]) == p))
      return op->emitOpError()
             << "mixes a rank's part with another layout of its operands";
    op->getResult(0).setType(op->getOperand(0).getType());
    setSplit(op->getResult(0), p);
    return success();
  }
  if (auto w = dyn_cast<tfm::KVCacheWriteOp>(op)) {
    // The cache holds this rank's KV heads.
    auto values = cast<RankedTensorType>(w.getValues().getType());
    auto cache = cast<RankedTensorType>(w.getCache().getType());
    SmallVector<int64_t> shape(cache.getShape());
    shape[2] = values.getDimSize(1);
    auto type = RankedTensorType::get(shape, cache.getElementType());
    auto arg = dyn_cast<BlockArgument>(w.getCache());
    if (!arg || !w.getCache().hasOneUse())
      return w.emitOpError() << "writes a cache that is not a step operand";
    arg.setType(type);
    w.getResult().setType(type);
    setSplit(w.getResult(), p);
    return success();
  }
  if (auto a = dyn_cast<tfm::AttentionOp>(op)) {
    if (layoutOf(a.getQuery()) != Layout::Split)
      return a.emitOpError() << "reads split KV caches with whole queries";
    a.getResult().setType(a.getQuery().getType());
    setSplit(a.getResult(), p);
    return success();
  }
  return op->emitOpError() << "has no tensor-parallel form for an operand "
                              "split across ranks";
}

LogicalResult Sharder::run() {
  func::FuncOp func = step.getFunc();
  Block &body = func.getBody().front();
  // Decide on the unmodified step, then rewrite in program order.
  for (Operation &op : body)
    for (Value r : op.getResults())
      (void)acceptsSplit(r);
  SmallVector<Operation *> ops;
  for (Operation &op : body)
    ops.push_back(&op);
  for (Operation *op : ops)
    if (failed(rewrite(op)))
      return failure();
  // Weights no longer read (replaced by their shards).
  for (Operation &op : llvm::make_early_inc_range(body))
    if (isa<tfm::WeightOp>(op) && op.use_empty())
      op.erase();
  func.setType(FunctionType::get(func.getContext(), body.getArgumentTypes(),
                                 step.getReturn()->getOperandTypes()));
  return success();
}

struct ShardTensorParallel
    : llmc::impl::ShardTensorParallelBase<ShardTensorParallel> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (tp < 1 || rank < 0 || rank >= tp) {
      module.emitError() << "tfm-shard-tensor-parallel: rank "
                         << static_cast<int64_t>(rank) << " of tp "
                         << static_cast<int64_t>(tp)
                         << " (need 0 <= rank < tp)";
      return signalPassFailure();
    }
    if (tp == 1)
      return;
    FailureOr<tfm::StepSignature> step = tfm::StepSignature::find(module);
    if (failed(step) || failed(Sharder(*step, tp, rank).run()))
      return signalPassFailure();
  }
};

} // namespace
