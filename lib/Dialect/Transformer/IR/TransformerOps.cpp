//===- TransformerOps.cpp - tfm verifiers and folders ---------------------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace llmc::tfm;

namespace {

RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

// Reports "<what> must have rank N, got M".
LogicalResult expectRank(Operation *op, Value v, int64_t rank, StringRef what) {
  int64_t actual = rankedType(v).getRank();
  if (actual != rank)
    return op->emitOpError()
           << what << " must have rank " << rank << ", got " << actual;
  return success();
}

// Reports "<whatA> dimension D (X) does not match <whatB> dimension E (Y)".
LogicalResult expectDim(Operation *op, Value a, int64_t da, StringRef whatA,
                        Value b, int64_t db, StringRef whatB) {
  int64_t x = rankedType(a).getDimSize(da);
  int64_t y = rankedType(b).getDimSize(db);
  if (!dimsCompatible(x, y))
    return op->emitOpError() << whatA << " dimension " << da << " ("
                             << dimStr(x) << ") does not match " << whatB
                             << " dimension " << db << " (" << dimStr(y) << ")";
  return success();
}

LogicalResult expectSameElementType(Operation *op, Value a, StringRef whatA,
                                    Value b, StringRef whatB) {
  Type x = rankedType(a).getElementType();
  Type y = rankedType(b).getElementType();
  if (x != y)
    return op->emitOpError()
           << whatA << " element type " << x << " does not match " << whatB
           << " element type " << y;
  return success();
}

/// A weight (or a KV cache) is stored in the computation's type, or in a
/// narrower float (bf16, f16) that kernels widen to f32 as they read it.
LogicalResult expectWeightStorage(Operation *op, Value weight, StringRef whatW,
                                  Value compute, StringRef whatC) {
  Type w = rankedType(weight).getElementType();
  Type c = rankedType(compute).getElementType();
  if (w == c || (c.isF32() && (w.isBF16() || w.isF16())))
    return success();
  if (w.isInteger(8) && c.isF32() && rankedType(weight).getRank() == 2)
    return success(); // int8 rows; the caller checks the k + 4 width
  return op->emitOpError() << whatW << " element type " << w << " is neither "
                           << whatC << "'s (" << c
                           << ") nor a bf16/f16 storage of f32";
}

/// A matrix weight's k (dimension 1) against the input's: equal, or k + 4
/// for int8 rows (each row's f32 scale after its values).
LogicalResult expectWeightK(Operation *op, Value weight, Value input,
                            int64_t inputDim) {
  auto wt = rankedType(weight);
  if (!wt.getElementType().isInteger(8))
    return expectDim(op, weight, 1, "weight", input, inputDim, "input");
  int64_t k = rankedType(input).getDimSize(inputDim);
  if (ShapedType::isDynamic(k) || wt.getDimSize(1) != k + 4)
    return op->emitOpError()
           << "int8 weight rows must hold input dimension " << inputDim << " ("
           << dimStr(k) << ") values and a 4-byte scale, got "
           << wt.getDimSize(1) << " bytes";
  return success();
}

LogicalResult checkAxis(Operation *op, int64_t axis, int64_t rank) {
  if (axis < 0 || axis >= rank)
    return op->emitOpError()
           << "axis " << axis << " is out of range for rank " << rank;
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getRecipe().getType() != getType())
    return emitOpError() << "recipe type " << getRecipe().getType()
                         << " does not match result type " << getType();
  return success();
}

// `"name" (, key = value)* : type`: the recipe's fields without its name and
// type, which the op spells once.
void WeightOp::print(OpAsmPrinter &p) {
  p << " ";
  p.printString(getName());
  getRecipe().printFields(p);
  p.printOptionalAttrDict((*this)->getAttrs(), {"recipe"});
  p << " : " << getType();
}

ParseResult WeightOp::parse(OpAsmParser &parser, OperationState &result) {
  std::string name;
  WeightTransform transform;
  SmallVector<StringAttr> sources;
  SmallVector<Attribute> parts;
  ShardAttr shard;
  RankedTensorType type;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseString(&name) ||
      WeightRecipeAttr::parseFields(parser, transform, sources, parts, shard) ||
      parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseColonType(type))
    return failure();
  auto recipe = WeightRecipeAttr::getChecked(
      [&] { return parser.emitError(loc); }, parser.getContext(),
      StringRef(name), type, transform, ArrayRef<StringAttr>(sources),
      ArrayRef<Attribute>(parts), shard);
  if (!recipe)
    return failure();
  result.addAttribute("recipe", recipe);
  result.addTypes(type);
  return success();
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getTable(), 2, "table")) ||
      failed(expectRank(op, getIds(), 1, "ids")) ||
      failed(expectRank(op, getResult(), 2, "result")) ||
      failed(expectDim(op, getResult(), 0, "result", getIds(), 0, "ids")) ||
      failed(getTable().getType().getElementType().isInteger(8)
                 ? expectWeightK(op, getTable(), getResult(), 1)
                 : expectDim(op, getResult(), 1, "result", getTable(), 1,
                             "table")) ||
      failed(
          expectWeightStorage(op, getTable(), "table", getResult(), "result")))
    return failure();
  if (std::optional<int64_t> start = getVocabStart(); start && *start < 0)
    return emitOpError() << "vocab_start must be >= 0, got " << *start;
  return success();
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

static LogicalResult verifyNormParam(Operation *op, Value input, Value param,
                                     StringRef what) {
  int64_t rank = rankedType(input).getRank();
  if (rank < 1)
    return op->emitOpError() << "input must have rank >= 1";
  if (failed(expectRank(op, param, 1, what)) ||
      failed(expectDim(op, param, 0, what, input, rank - 1, "input")) ||
      failed(expectSameElementType(op, param, what, input, "input")))
    return failure();
  return success();
}

static LogicalResult verifyEps(Operation *op, double eps) {
  if (!(eps >= 0.0))
    return op->emitOpError() << "eps must be non-negative, got " << eps;
  return success();
}

LogicalResult RMSNormOp::verify() {
  if (failed(verifyEps(*this, getEps().convertToDouble())))
    return failure();
  return verifyNormParam(*this, getInput(), getWeight(), "weight");
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyEps(*this, getEps().convertToDouble())) ||
      failed(verifyNormParam(*this, getInput(), getWeight(), "weight")))
    return failure();
  return verifyNormParam(*this, getInput(), getBias(), "bias");
}

LogicalResult AddRMSNormOp::verify() {
  if (failed(verifyEps(*this, getEps().convertToDouble())))
    return failure();
  return verifyNormParam(*this, getLhs(), getWeight(), "weight");
}

LogicalResult AddLayerNormOp::verify() {
  if (failed(verifyEps(*this, getEps().convertToDouble())) ||
      failed(verifyNormParam(*this, getLhs(), getWeight(), "weight")))
    return failure();
  return verifyNormParam(*this, getLhs(), getBias(), "bias");
}

LogicalResult SoftmaxOp::verify() {
  return checkAxis(*this, static_cast<int64_t>(getAxis()), getType().getRank());
}

//===----------------------------------------------------------------------===//
// LinearOp / MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  Operation *op = getOperation();
  auto inTy = rankedType(getInput());
  int64_t rank = inTy.getRank();
  if (rank < 1)
    return emitOpError() << "input must have rank >= 1";
  if (failed(expectRank(op, getWeight(), 2, "weight")) ||
      failed(expectRank(op, getResult(), rank, "result")) ||
      failed(expectWeightK(op, getWeight(), getInput(), rank - 1)) ||
      failed(expectWeightStorage(op, getWeight(), "weight", getInput(),
                                 "input")) ||
      failed(expectSameElementType(op, getResult(), "result", getInput(),
                                   "input")))
    return failure();
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (failed(expectDim(op, getResult(), i, "result", getInput(), i, "input")))
      return failure();
  int64_t outRows = getWeight().getType().getDimSize(0);
  int64_t outWidth = getType().getDimSize(rank - 1);
  if (getEpilogue() == Epilogue::SwiGLU) {
    if (ShapedType::isDynamic(outWidth) || outRows != 2 * outWidth)
      return emitOpError() << "swiglu result width (" << dimStr(outWidth)
                           << ") must be half the weight's " << outRows
                           << " rows";
  } else if (!dimsCompatible(outWidth, outRows)) {
    return emitOpError() << "result dimension " << rank - 1 << " ("
                         << dimStr(outWidth) << ") does not match weight "
                         << "dimension 0 (" << outRows << ")";
  }
  if (Value bias = getBias()) {
    if (failed(expectRank(op, bias, 1, "bias")) ||
        failed(expectDim(op, bias, 0, "bias", getWeight(), 0, "weight")) ||
        failed(expectSameElementType(op, bias, "bias", getInput(), "input")))
      return failure();
  }
  if (Value residual = getResidual();
      residual && residual.getType() != getType())
    return emitOpError() << "residual type " << residual.getType()
                         << " does not match result type " << getType();
  return success();
}

LogicalResult MatmulOp::verify() {
  Operation *op = getOperation();
  int64_t rank = rankedType(getLhs()).getRank();
  if (rank < 2)
    return emitOpError() << "lhs must have rank >= 2, got " << rank;
  if (failed(expectRank(op, getRhs(), rank, "rhs")) ||
      failed(expectRank(op, getResult(), rank, "result")) ||
      failed(expectDim(op, getRhs(), rank - 2, "rhs", getLhs(), rank - 1,
                       "lhs")) ||
      failed(expectDim(op, getResult(), rank - 2, "result", getLhs(), rank - 2,
                       "lhs")) ||
      failed(expectDim(op, getResult(), rank - 1, "result", getRhs(), rank - 1,
                       "rhs")) ||
      failed(expectSameElementType(op, getRhs(), "rhs", getLhs(), "lhs")) ||
      failed(expectSameElementType(op, getResult(), "result", getLhs(), "lhs")))
    return failure();
  for (int64_t i = 0; i + 2 < rank; ++i)
    if (failed(expectDim(op, getRhs(), i, "rhs", getLhs(), i, "lhs")) ||
        failed(expectDim(op, getResult(), i, "result", getLhs(), i, "lhs")))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// RoPEOp
//===----------------------------------------------------------------------===//

/// The checks of a RoPE against the heads it rotates: rotary_dim within
/// head_dim, seq_ids present for dynamic scaling (its L is per sequence).
static LogicalResult verifyRopeUse(Operation *op, RopeAttr rope,
                                   int64_t headDim, Value input, Value seqIds) {
  if (rope.getRotaryDim() > headDim)
    return op->emitOpError() << "rope rotary_dim " << rope.getRotaryDim()
                             << " exceeds head_dim " << headDim;
  if (rope.isDynamic()) {
    if (!seqIds)
      return op->emitOpError()
             << "rope scaling 'dynamic' requires the seq_ids operand";
    if (failed(expectRank(op, seqIds, 1, "seq_ids")) ||
        failed(expectDim(op, seqIds, 0, "seq_ids", input, 0, "input")))
      return failure();
  }
  return success();
}

LogicalResult RoPEOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getInput(), 3, "input")) ||
      failed(expectRank(op, getPositions(), 1, "positions")) ||
      failed(expectDim(op, getPositions(), 0, "positions", getInput(), 0,
                       "input")))
    return failure();
  int64_t headDim = getInput().getType().getDimSize(2);
  if (ShapedType::isDynamic(headDim))
    return emitOpError() << "input head dimension must be static";
  return verifyRopeUse(op, getRope(), headDim, getInput(), getSeqIds());
}

//===----------------------------------------------------------------------===//
// KV cache and attention
//===----------------------------------------------------------------------===//

static LogicalResult verifyCache(Operation *op, Value cache, StringRef what) {
  if (failed(expectRank(op, cache, 4, what)))
    return failure();
  auto ty = rankedType(cache);
  for (int64_t d = 1; d < 4; ++d)
    if (ty.isDynamicDim(d))
      return op->emitOpError()
             << what << " dimensions 1-3 (block_size, kv_heads, head_dim) "
             << "must be static";
  return success();
}

LogicalResult KVCacheWriteOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyCache(op, getCache(), "cache")) ||
      failed(expectRank(op, getValues(), 3, "values")) ||
      failed(expectRank(op, getSlots(), 1, "slots")) ||
      failed(expectDim(op, getSlots(), 0, "slots", getValues(), 0, "values")) ||
      failed(expectDim(op, getValues(), 1, "values", getCache(), 2, "cache")) ||
      failed(expectDim(op, getValues(), 2, "values", getCache(), 3, "cache")) ||
      failed(
          expectWeightStorage(op, getCache(), "cache", getValues(), "values")))
    return failure();
  return success();
}

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getQuery(), 3, "query")) ||
      failed(verifyCache(op, getKeyCache(), "key_cache")) ||
      failed(verifyCache(op, getValueCache(), "value_cache")))
    return failure();
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError() << "key_cache type " << getKeyCache().getType()
                         << " does not match value_cache type "
                         << getValueCache().getType();
  if (failed(expectRank(op, getBlockTables(), 2, "block_tables")) ||
      failed(expectRank(op, getSeqIds(), 1, "seq_ids")) ||
      failed(expectRank(op, getPositions(), 1, "positions")) ||
      failed(
          expectDim(op, getSeqIds(), 0, "seq_ids", getQuery(), 0, "query")) ||
      failed(expectDim(op, getPositions(), 0, "positions", getQuery(), 0,
                       "query")) ||
      failed(expectDim(op, getQuery(), 2, "query", getKeyCache(), 3,
                       "key_cache")) ||
      failed(expectWeightStorage(op, getKeyCache(), "key_cache", getQuery(),
                                 "query")))
    return failure();
  if (getResult().getType() != getQuery().getType())
    return emitOpError() << "result type " << getResult().getType()
                         << " does not match query type "
                         << getQuery().getType();
  int64_t heads = getQuery().getType().getDimSize(1);
  int64_t kvHeads = getKeyCache().getType().getDimSize(2);
  if (ShapedType::isDynamic(heads))
    return emitOpError() << "query head count must be static";
  if (heads % kvHeads != 0)
    return emitOpError() << "query heads (" << heads
                         << ") must be a multiple of kv heads (" << kvHeads
                         << ")";
  if (!(getScale().convertToDouble() > 0.0))
    return emitOpError() << "scale must be positive";
  if (auto window = getSlidingWindow();
      window && static_cast<int64_t>(*window) <= 0)
    return emitOpError() << "sliding_window must be positive, got "
                         << static_cast<int64_t>(*window);
  return success();
}

LogicalResult QKVRopeCacheOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getInput(), 2, "input")) ||
      failed(expectRank(op, getWeight(), 2, "weight")) ||
      failed(expectRank(op, getQuery(), 3, "query")) ||
      failed(verifyCache(op, getKeyCache(), "key_cache")) ||
      failed(expectWeightK(op, getWeight(), getInput(), 1)) ||
      failed(expectWeightStorage(op, getWeight(), "weight", getInput(),
                                 "input")) ||
      failed(expectDim(op, getQuery(), 0, "query", getInput(), 0, "input")) ||
      failed(expectDim(op, getQuery(), 2, "query", getKeyCache(), 3,
                       "key_cache")) ||
      failed(expectDim(op, getPositions(), 0, "positions", getInput(), 0,
                       "input")) ||
      failed(expectDim(op, getSlots(), 0, "slots", getInput(), 0, "input")) ||
      failed(expectWeightStorage(op, getKeyCache(), "key_cache", getQuery(),
                                 "query")))
    return failure();
  auto cache = getKeyCache().getType();
  int64_t heads = getQuery().getType().getDimSize(1);
  int64_t kvHeads = cache.getDimSize(2), headDim = cache.getDimSize(3);
  if (ShapedType::isDynamic(heads) || heads % kvHeads != 0)
    return emitOpError() << "query heads (" << heads
                         << ") must be a static multiple of kv heads ("
                         << kvHeads << ")";
  int64_t rows = (heads + 2 * kvHeads) * headDim;
  if (getWeight().getType().getDimSize(0) != rows)
    return emitOpError() << "weight must have (heads + 2 * kv_heads) * "
                            "head_dim = "
                         << rows << " rows, got "
                         << getWeight().getType().getDimSize(0);
  if (getBias() &&
      (failed(expectRank(op, getBias(), 1, "bias")) ||
       failed(expectDim(op, getBias(), 0, "bias", getWeight(), 0, "weight"))))
    return failure();
  if (RopeAttr rope = getRopeAttr())
    return verifyRopeUse(op, rope, headDim, getInput(), getSeqIds());
  return success();
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto inTy = getInput().getType();
  auto resTy = getType();
  if (inTy.getElementType() != resTy.getElementType())
    return emitOpError() << "result element type " << resTy.getElementType()
                         << " does not match input element type "
                         << inTy.getElementType();
  if (resTy.getNumDynamicDims() > 1)
    return emitOpError() << "result may have at most one dynamic dimension";
  if (inTy.hasStaticShape() && resTy.hasStaticShape() &&
      inTy.getNumElements() != resTy.getNumElements())
    return emitOpError() << "input has " << inTy.getNumElements()
                         << " elements but result has "
                         << resTy.getNumElements();
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType() && getType().getNumDynamicDims() == 0)
    return getInput();
  // reshape(reshape(x)) -> reshape(x): the intermediate shape is irrelevant.
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    if (producer.getInput().getType() == getType() &&
        getType().getNumDynamicDims() == 0)
      return producer.getInput();
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

LogicalResult TransposeOp::verify() {
  auto inTy = getInput().getType();
  ArrayRef<int64_t> perm = getPermutation();
  if (static_cast<int64_t>(perm.size()) != inTy.getRank())
    return emitOpError() << "permutation has " << perm.size()
                         << " entries for an input of rank " << inTy.getRank();
  SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= inTy.getRank() || seen[p])
      return emitOpError() << "permutation is not a permutation of [0, "
                           << inTy.getRank() << ")";
    seen[p] = true;
  }
  auto resTy = getType();
  if (resTy.getRank() != inTy.getRank() ||
      resTy.getElementType() != inTy.getElementType())
    return emitOpError() << "result type " << resTy
                         << " is not a permutation of input type " << inTy;
  for (auto [i, p] : llvm::enumerate(perm))
    if (!dimsCompatible(resTy.getDimSize(i), inTy.getDimSize(p)))
      return emitOpError() << "result dimension " << i << " ("
                           << dimStr(resTy.getDimSize(i))
                           << ") does not match input dimension " << p << " ("
                           << dimStr(inTy.getDimSize(p)) << ")";
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  bool identity = llvm::all_of(llvm::enumerate(perm), [](auto it) {
    return static_cast<int64_t>(it.index()) == it.value();
  });
  if (identity && getInput().getType() == getType())
    return getInput();
  // transpose(transpose(x, p), q) -> transpose(x, p o q).
  if (auto producer = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> inner = producer.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(inner[p]);
    bool composedIdentity =
        llvm::all_of(llvm::enumerate(composed), [](auto it) {
          return static_cast<int64_t>(it.index()) == it.value();
        });
    if (composedIdentity && producer.getInput().getType() == getType())
      return producer.getInput();
    getInputMutable().assign(producer.getInput());
    setPermutation(composed);
    return getResult();
  }
  return {};
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one input";
  auto resTy = getType();
  int64_t rank = resTy.getRank();
  auto axis = static_cast<int64_t>(getAxis());
  if (failed(checkAxis(*this, axis, rank)))
    return failure();
  int64_t total = 0;
  bool dynamic = false;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto ty = rankedType(v);
    if (ty.getRank() != rank || ty.getElementType() != resTy.getElementType())
      return emitOpError() << "input " << i << " type " << ty
                           << " does not match result rank and element type";
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis)
        continue;
      if (!dimsCompatible(ty.getDimSize(d), resTy.getDimSize(d)))
        return emitOpError()
               << "input " << i << " dimension " << d << " ("
               << dimStr(ty.getDimSize(d)) << ") does not match result ("
               << dimStr(resTy.getDimSize(d)) << ")";
    }
    if (ty.isDynamicDim(axis))
      dynamic = true;
    else
      total += ty.getDimSize(axis);
  }
  if (!dynamic && !resTy.isDynamicDim(axis) && total != resTy.getDimSize(axis))
    return emitOpError() << "inputs add up to " << total << " along axis "
                         << axis << " but result has "
                         << resTy.getDimSize(axis);
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  return {};
}

LogicalResult SplitOp::verify() {
  auto inTy = getInput().getType();
  int64_t rank = inTy.getRank();
  if (getResults().empty())
    return emitOpError() << "needs at least one result";
  auto axis = static_cast<int64_t>(getAxis());
  if (failed(checkAxis(*this, axis, rank)))
    return failure();
  int64_t total = 0;
  bool dynamic = false;
  for (auto [i, v] : llvm::enumerate(getResults())) {
    auto ty = rankedType(v);
    if (ty.getRank() != rank || ty.getElementType() != inTy.getElementType())
      return emitOpError() << "result " << i << " type " << ty
                           << " does not match input rank and element type";
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && !dimsCompatible(ty.getDimSize(d), inTy.getDimSize(d)))
        return emitOpError()
               << "result " << i << " dimension " << d << " ("
               << dimStr(ty.getDimSize(d)) << ") does not match input ("
               << dimStr(inTy.getDimSize(d)) << ")";
    if (ty.isDynamicDim(axis))
      dynamic = true;
    else
      total += ty.getDimSize(axis);
  }
  if (!dynamic && !inTy.isDynamicDim(axis) && total != inTy.getDimSize(axis))
    return emitOpError() << "results add up to " << total << " along axis "
                         << axis << " but input has " << inTy.getDimSize(axis);
  return success();
}

LogicalResult SliceOp::verify() {
  auto inTy = getInput().getType();
  auto resTy = getType();
  int64_t rank = inTy.getRank();
  auto axis = static_cast<int64_t>(getAxis());
  if (failed(checkAxis(*this, axis, rank)))
    return failure();
  auto start = static_cast<int64_t>(getStart());
  auto size = static_cast<int64_t>(getSize());
  if (resTy.getRank() != rank ||
      resTy.getElementType() != inTy.getElementType())
    return emitOpError() << "result type " << resTy
                         << " does not match input rank and element type";
  if (start < 0 || size <= 0)
    return emitOpError() << "start must be >= 0 and size > 0";
  if (!inTy.isDynamicDim(axis) && start + size > inTy.getDimSize(axis))
    return emitOpError() << "range [" << start << ", " << start + size
                         << ") exceeds input size " << inTy.getDimSize(axis)
                         << " on axis " << axis;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t expected = d == axis ? size : inTy.getDimSize(d);
    if (!dimsCompatible(resTy.getDimSize(d), expected))
      return emitOpError() << "result dimension " << d << " ("
                           << dimStr(resTy.getDimSize(d)) << ") should be "
                           << dimStr(expected);
  }
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  auto inTy = getInput().getType();
  auto axis = static_cast<int64_t>(getAxis());
  if (getStart() == 0 && !inTy.isDynamicDim(axis) &&
      static_cast<int64_t>(getSize()) == inTy.getDimSize(axis) &&
      inTy == getType())
    return getInput();
  return {};
}

LogicalResult GatherLastTokensOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getInput(), 2, "input")) ||
      failed(expectRank(op, getIndices(), 1, "indices")) ||
      failed(expectRank(op, getResult(), 2, "result")) ||
      failed(expectDim(op, getResult(), 0, "result", getIndices(), 0,
                       "indices")) ||
      failed(expectDim(op, getResult(), 1, "result", getInput(), 1, "input")) ||
      failed(expectSameElementType(op, getResult(), "result", getInput(),
                                   "input")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Parallelism
//===----------------------------------------------------------------------===//

LogicalResult AllGatherOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getResult().getType());
  int64_t axis = getAxis(), group = getGroup();
  if (group < 1)
    return emitOpError() << "group must be at least 1, got " << group;
  if (axis < 0 || axis >= in.getRank())
    return emitOpError() << "axis " << axis << " is out of range for rank "
                         << in.getRank();
  if (out.getRank() != in.getRank() ||
      out.getElementType() != in.getElementType())
    return emitOpError() << "result " << out << " must have the rank and "
                         << "element type of the input " << in;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t want = in.getDimSize(d);
    if (d == axis && !ShapedType::isDynamic(want))
      want *= group;
    if (out.getDimSize(d) != want)
      return emitOpError() << "result dimension " << d << " is "
                           << out.getDimSize(d) << " but expected " << want
                           << (d == axis ? " (the input's times the group)"
                                         : " (the input's)");
  }
  return success();
}

LogicalResult SendOp::verify() {
  if (auto peer = static_cast<int64_t>(getPeer()); peer < 0)
    return emitOpError() << "peer must be a pipeline stage >= 0, got " << peer;
  return success();
}

LogicalResult RecvOp::verify() {
  if (auto peer = static_cast<int64_t>(getPeer()); peer < 0)
    return emitOpError() << "peer must be a pipeline stage >= 0, got " << peer;
  auto rows = cast<RankedTensorType>(getRows().getType());
  auto out = cast<RankedTensorType>(getType());
  if (rows.getRank() < 1 || out.getRank() < 1 ||
      rows.getDimSize(0) != out.getDimSize(0))
    return emitOpError() << "result " << out
                         << " must have the rows (dimension 0) of " << rows;
  for (int64_t d = 1; d < out.getRank(); ++d)
    if (out.isDynamicDim(d))
      return emitOpError() << "result dimension " << d
                           << " is dynamic; only the rows may be";
  return success();
}

//===----------------------------------------------------------------------===//
// Token selection
//===----------------------------------------------------------------------===//

LogicalResult ArgmaxOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getLogits(), 2, "logits")) ||
      failed(expectRank(op, getResult(), 1, "result")) ||
      failed(expectDim(op, getResult(), 0, "result", getLogits(), 0, "logits")))
    return failure();
  return success();
}

LogicalResult SampleOp::verify() {
  Operation *op = getOperation();
  if (failed(expectRank(op, getLogits(), 2, "logits")) ||
      failed(expectRank(op, getResult(), 1, "result")))
    return failure();
  std::pair<Value, StringRef> rows[] = {{getResult(), "result"},
                                        {getTemperature(), "temperature"},
                                        {getTopK(), "top_k"},
                                        {getTopP(), "top_p"},
                                        {getUniform(), "uniform"}};
  for (auto [v, name] : rows)
    if (failed(expectRank(op, v, 1, name)) ||
        failed(expectDim(op, v, 0, name, getLogits(), 0, "logits")))
      return failure();
  return success();
}

#define GET_OP_CLASSES
#include "llmc/Dialect/Transformer/IR/TransformerOps.cpp.inc"
