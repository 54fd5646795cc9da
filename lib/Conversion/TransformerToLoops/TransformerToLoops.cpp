//===- TransformerToLoops.cpp - tfm step -> loops over memrefs ------------===//
//
// Lowers the tensor-level step function to one memref function with a fixed
// C ABI: weights, KV pool and scratch are byte buffers, and every value the
// step computes is a view of one of them at an offset chosen here.
//
//===----------------------------------------------------------------------===//
#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>
#include <map>

namespace llmc {
#define GEN_PASS_DEF_CONVERTTRANSFORMERTOLOOPS
#include "llmc/Conversion/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

constexpr int64_t kNumFixedArgs = 6;

int64_t alignTo(int64_t x) {
  return (x + tfm::kBufferAlignment - 1) / tfm::kBufferAlignment *
         tfm::kBufferAlignment;
}

int64_t elementBytes(Type t) { return (t.getIntOrFloatBitWidth() + 7) / 8; }

// tfm.rope's attributes are required, tfm.qkv_rope_cache's optional.
template <typename T> T unwrap(T v) { return v; }
template <typename T> T unwrap(std::optional<T> v) { return *v; }

/// The rotary embedding of tfm.rope and of tfm.qkv_rope_cache.
struct RopeParams {
  int64_t rot = 0;
  double theta = 0;
  tfm::RopeScaling scaling = tfm::RopeScaling::Default;
  double factor = 1, lo = 1, hi = 4;
  int64_t orig = 0;

  template <typename OpT> static RopeParams from(OpT op) {
    RopeParams r;
    r.rot = static_cast<int64_t>(unwrap(op.getRotaryDim()));
    r.theta = unwrap(op.getTheta()).convertToDouble();
    r.scaling = op.getScaling();
    if (auto f = op.getFactor())
      r.factor = f->convertToDouble();
    if (auto f = op.getLowFreqFactor())
      r.lo = f->convertToDouble();
    if (auto f = op.getHighFreqFactor())
      r.hi = f->convertToDouble();
    if (auto o = op.getOriginalMaxPositions())
      r.orig = static_cast<int64_t>(*o);
    return r;
  }
  bool dynamic() const { return scaling == tfm::RopeScaling::Dynamic; }
};

/// Inverse frequencies of a non-dynamic RoPE, as HF computes them.
std::vector<float> ropeInvFreq(const RopeParams &r) {
  std::vector<float> inv(r.rot / 2);
  for (int64_t i = 0; i < r.rot / 2; ++i) {
    double f = 1.0 / std::pow(r.theta, static_cast<double>(2 * i) / r.rot);
    switch (r.scaling) {
    case tfm::RopeScaling::Linear:
      f /= r.factor;
      break;
    case tfm::RopeScaling::Llama3: {
      double old = static_cast<double>(r.orig);
      double wavelen = 2 * M_PI / f;
      if (wavelen > old / r.lo) {
        f /= r.factor;
      } else if (wavelen >= old / r.hi) {
        double smooth = (old / wavelen - r.lo) / (r.hi - r.lo);
        f = (1 - smooth) * f / r.factor + smooth * f;
      }
      break;
    }
    case tfm::RopeScaling::Default:
    case tfm::RopeScaling::Dynamic:
      break;
    }
    inv[i] = static_cast<float>(f);
  }
  return inv;
}

class StepLowering {
public:
  StepLowering(ModuleOp module, func::FuncOp step, int64_t maxTokens)
      : module(module), step(step), maxTokens(maxTokens),
        b(module.getContext()), loc(step.getLoc()) {}

  LogicalResult run();

private:
  using Body = function_ref<void(ValueRange)>;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value dim(Value m, int64_t i) {
    auto ty = cast<MemRefType>(m.getType());
    if (!ty.isDynamicDim(i))
      return idx(ty.getDimSize(i));
    return memref::DimOp::create(b, loc, m, i);
  }
  Value load(Value m, ValueRange ivs) {
    return memref::LoadOp::create(b, loc, m, ivs);
  }
  void store(Value v, Value m, ValueRange ivs) {
    memref::StoreOp::create(b, loc, v, m, ivs);
  }
  Value loadIndex(Value m, ValueRange ivs) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), load(m, ivs));
  }
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  /// Runs `body(block, offset)` for token t's KV slot unless it is negative
  /// (a padding token).
  void atSlot(Value slots, Value t, int64_t blockSize,
              function_ref<void(Value, Value)> body) {
    Value slot = load(slots, {t});
    Value valid = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sge, slot,
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(slot.getType(), 0)));
    auto ifOp = scf::IfOp::create(b, loc, valid, /*withElse=*/false);
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value s = arith::IndexCastOp::create(b, loc, b.getIndexType(), slot);
    body(arith::DivUIOp::create(b, loc, s, idx(blockSize)),
         arith::RemUIOp::create(b, loc, s, idx(blockSize)));
  }
  /// acc + x * y for dot products: reassociation and contraction allowed,
  /// so that LLVM vectorizes the reduction (and forms FMAs).
  Value dotStep(Value acc, Value x, Value y) {
    auto fm = arith::FastMathFlagsAttr::get(b.getContext(),
                                            arith::FastMathFlags::reassoc |
                                                arith::FastMathFlags::contract);
    Value prod = arith::MulFOp::create(b, loc, x, y, fm);
    return arith::AddFOp::create(b, loc, acc, prod, fm);
  }
  Value silu(Value x) {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    return div(x, add(f32(1), e));
  }
  /// GELU, exact (erf) or in GPT-2's tanh form.
  Value gelu(Value x, bool tanhForm) {
    if (tanhForm) {
      Value inner = mul(f32(std::sqrt(2.0 / M_PI)),
                        add(x, mul(f32(0.044715), mul(x, mul(x, x)))));
      return mul(mul(f32(0.5), x),
                 add(f32(1), math::TanhOp::create(b, loc, inner)));
    }
    Value e = math::ErfOp::create(b, loc, mul(x, f32(M_SQRT1_2)));
    return mul(mul(f32(0.5), x), add(f32(1), e));
  }
  Value muli(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }

  /// for (iv = lb; iv < ub; ++iv) body(iv), built at the insertion point.
  void loop(Value lb, Value ub, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1));
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }
  /// A reduction loop carrying one value.
  Value reduce(Value lb, Value ub, Value init,
               function_ref<Value(Value, Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, idx(1), ValueRange{init});
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(forOp.getBody());
    Value next = body(forOp.getInductionVar(), forOp.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, next);
    return forOp.getResult(0);
  }
  /// This thread's share [begin, end) of [0, n): the step runs on every
  /// thread of the runtime's pool, each kernel split along one independent
  /// dimension and followed by a barrier.
  std::pair<Value, Value> share(Value n) {
    Value begin =
        arith::DivUIOp::create(b, loc, muli(n, threadIndex), numThreads);
    Value end = arith::DivUIOp::create(
        b, loc, muli(n, addi(threadIndex, idx(1))), numThreads);
    return {begin, end};
  }
  /// A loop over this thread's share of [0, ub).
  void sharedLoop(Value ub, function_ref<void(Value)> body) {
    auto [begin, end] = share(ub);
    loop(begin, end, body);
  }
  /// A loop nest whose dimension `shared` is split across threads.
  void loopNest(ArrayRef<Value> ubs, int64_t shared, Body body) {
    SmallVector<Value> ivs;
    std::function<void(size_t)> rec = [&](size_t d) {
      if (d == ubs.size()) {
        body(ivs);
        return;
      }
      Value lb = idx(0), ub = ubs[d];
      if (static_cast<int64_t>(d) == shared)
        std::tie(lb, ub) = share(ubs[d]);
      loop(lb, ub, [&](Value iv) {
        ivs.push_back(iv);
        rec(d + 1);
        ivs.pop_back();
      });
    };
    rec(0);
  }
  /// The sizes of `m`'s dynamic dimensions: a same-shaped result's sizes.
  SmallVector<Value> dynamicDims(Value m) {
    SmallVector<Value> out;
    auto ty = cast<MemRefType>(m.getType());
    for (int64_t i = 0; i < ty.getRank(); ++i)
      if (ty.isDynamicDim(i))
        out.push_back(dim(m, i));
    return out;
  }
  SmallVector<Value> dims(Value m) {
    SmallVector<Value> out;
    for (int64_t i = 0, e = cast<MemRefType>(m.getType()).getRank(); i < e; ++i)
      out.push_back(dim(m, i));
    return out;
  }

  /// A contiguous view of `m` with its leading dimensions folded into one:
  /// the result has rank `keep + 1`.
  Value collapse(Value m, int64_t keep) {
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
    return reinterpretContiguous(m, shape, sizes);
  }

  /// Reinterprets a contiguous buffer with a new shape whose only dynamic
  /// dimension, if any, leads.
  Value reinterpretContiguous(Value m, ArrayRef<int64_t> shape,
                              ArrayRef<OpFoldResult> sizes) {
    SmallVector<OpFoldResult> strides(shape.size());
    int64_t stride = 1;
    for (int64_t i = shape.size() - 1; i >= 0; --i) {
      strides[i] = b.getIndexAttr(stride);
      stride *= ShapedType::isDynamic(shape[i]) ? 1 : shape[i];
    }
    auto elem = cast<MemRefType>(m.getType()).getElementType();
    return memref::ReinterpretCastOp::create(b, loc,
                                             MemRefType::get(shape, elem), m,
                                             b.getIndexAttr(0), sizes, strides);
  }

  /// The buffer for a tfm result: the logits output for the returned
  /// logits, otherwise a fresh region of the scratch arena.
  FailureOr<Value> alloc(Value result, ValueRange dynSizes) {
    if (result == logitsResult)
      return logitsArg;
    auto ty = cast<RankedTensorType>(result.getType());
    Operation *def = result.getDefiningOp();
    std::optional<int64_t> bytes = tfm::boundedBytes(ty, maxTokens);
    if (!bytes) {
      def->emitOpError() << "result " << ty
                         << " has more than one dynamic dimension; the CPU "
                            "lowering sizes intermediates by the token count "
                            "alone";
      return failure();
    }
    // Planned (tfm-plan-memory): the offset is on the op. Otherwise every
    // value gets its own region.
    int64_t offset;
    if (planned) {
      auto offsets = def->getAttrOfType<DenseI64ArrayAttr>("llmc.offsets");
      unsigned n = cast<OpResult>(result).getResultNumber();
      if (!offsets || offsets.size() <= n || offsets[n] < 0) {
        def->emitOpError() << "has no arena offset for result #" << n
                           << " (tfm-plan-memory must plan every result)";
        return failure();
      }
      offset = offsets[n];
      arenaBytes = std::max(arenaBytes, offset + *bytes);
    } else {
      offset = arenaBytes;
      arenaBytes += *bytes;
    }
    auto memTy = MemRefType::get(ty.getShape(), ty.getElementType());
    return memref::ViewOp::create(b, loc, memTy, scratchArg, idx(offset),
                                  dynSizes)
        .getResult();
  }

  Value lookup(Value v) { return mapping.lookup(v); }

  LogicalResult lowerOp(Operation *op);
  LogicalResult checkSignature();
  void assignWeights();
  Value ropeTable(const RopeParams &r);
  /// The frequency source of one token: the constant table, or for dynamic
  /// NTK the token's scaled base.
  Value ropeBase(const RopeParams &r, Value seqIds, Value pos, Value t);
  Value ropeFreq(const RopeParams &r, Value tableOrBase, Value i);
  Value attentionScore(tfm::AttentionOp op, Value q, Value kc, Value t, Value h,
                       Value kvh, Value seq, Value j);

  ModuleOp module;
  func::FuncOp step;
  int64_t maxTokens;
  OpBuilder b;
  Location loc;
  func::FuncOp lowered;
  Value scratchArg, weightsArg, kvArg, logitsArg, logitsResult;
  Value threadIndex, numThreads;
  DenseMap<Value, Value> mapping;
  llvm::StringMap<int64_t> weightOffsets;
  int64_t weightBytes = 0, arenaBytes = 0, kvBlockBytes = 0;
  bool planned = false;
  /// One constant table per distinct set of frequencies (every layer's
  /// queries and keys share one).
  std::map<std::vector<float>, std::string> ropeGlobals;
};

LogicalResult StepLowering::checkSignature() {
  FunctionType fty = step.getFunctionType();
  auto fail = [&](const Twine &msg) {
    return step.emitOpError() << "is not an llmc step function: " << msg;
  };
  if (fty.getNumInputs() < kNumFixedArgs + 2 ||
      (fty.getNumInputs() - kNumFixedArgs) % 2 != 0)
    return fail("expected 6 batch operands followed by K and V caches per "
                "layer");
  for (int64_t i = 0; i < kNumFixedArgs; ++i) {
    auto ty = dyn_cast<RankedTensorType>(fty.getInput(i));
    int64_t rank = i == 4 ? 2 : 1;
    if (!ty || ty.getRank() != rank || !ty.getElementType().isInteger(32))
      return fail("operand #" + Twine(i) + " must be a rank-" + Twine(rank) +
                  " i32 tensor");
  }
  if (fty.getNumResults() != fty.getNumInputs() - kNumFixedArgs + 1)
    return fail("expected the logits and one result per cache");
  auto logits = dyn_cast<RankedTensorType>(fty.getResult(0));
  if (!logits || logits.getRank() != 2 || logits.isDynamicDim(1) ||
      !logits.getElementType().isF32())
    return fail("result #0 must be f32 logits [rows, vocab]");
  for (unsigned i = kNumFixedArgs; i < fty.getNumInputs(); ++i) {
    auto ty = dyn_cast<RankedTensorType>(fty.getInput(i));
    if (!ty || ty.getRank() != 4 || !ty.getElementType().isF32())
      return fail("operand #" + Twine(i) + " must be an f32 KV cache");
    if (fty.getResult(i - kNumFixedArgs + 1) != ty)
      return fail("result #" + Twine(i - kNumFixedArgs + 1) +
                  " must have the type of its cache operand");
  }
  return success();
}

/// Packs every named weight at an aligned offset of the weight buffer and
/// records offset and shape on the module's weight recipes.
void StepLowering::assignWeights() {
  SmallVector<Attribute> recipes;
  llvm::StringMap<DictionaryAttr> byName;
  if (auto existing = module->getAttrOfType<ArrayAttr>("llmc.weights"))
    for (Attribute a : existing)
      if (auto d = dyn_cast<DictionaryAttr>(a))
        if (auto n = d.getAs<StringAttr>("name"))
          byName[n.getValue()] = d;
  step.walk([&](tfm::WeightOp w) {
    if (weightOffsets.count(w.getName()))
      return;
    weightOffsets[w.getName()] = weightBytes;
    auto ty = w.getType();
    SmallVector<Attribute> shape;
    for (int64_t d : ty.getShape())
      shape.push_back(b.getI64IntegerAttr(d));
    NamedAttrList fields;
    if (DictionaryAttr d = byName.lookup(w.getName()))
      fields.append(d.getValue());
    else
      fields.append("sources", b.getArrayAttr({b.getStringAttr(w.getName())}));
    fields.set("name", b.getStringAttr(w.getName()));
    if (!fields.get("transform"))
      fields.set("transform", b.getStringAttr("none"));
    fields.set("shape", b.getArrayAttr(shape));
    fields.set("dtype", b.getStringAttr("f32"));
    fields.set("offset", b.getI64IntegerAttr(weightBytes));
    recipes.push_back(fields.getDictionary(b.getContext()));
    weightBytes +=
        alignTo(ty.getNumElements() * elementBytes(ty.getElementType()));
  });
  module->setAttr("llmc.weights", b.getArrayAttr(recipes));
}

Value StepLowering::ropeTable(const RopeParams &r) {
  std::vector<float> inv = ropeInvFreq(r);
  auto ty = MemRefType::get({static_cast<int64_t>(inv.size())}, b.getF32Type());
  auto [it, isNew] = ropeGlobals.try_emplace(
      inv, "__llmc_rope_inv_freq_" + std::to_string(ropeGlobals.size()));
  const std::string &name = it->second;
  if (isNew) {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(module.getBody());
    auto tensorTy = RankedTensorType::get({static_cast<int64_t>(inv.size())},
                                          b.getF32Type());
    memref::GlobalOp::create(
        b, loc, name, b.getStringAttr("private"), ty,
        DenseElementsAttr::get(tensorTy, ArrayRef<float>(inv)),
        /*constant=*/true, /*alignment=*/nullptr);
  }
  return memref::GetGlobalOp::create(b, loc, ty, name);
}

Value StepLowering::ropeBase(const RopeParams &r, Value seqIds, Value pos,
                             Value t) {
  if (!r.dynamic())
    return ropeTable(r);
  // L = 1 + the largest position of this token's sequence in the step;
  // theta' = theta * (factor * L / orig - (factor - 1)) ^ (rot / (rot - 2))
  // once L exceeds orig.
  Value mySeq = load(seqIds, {t});
  Value last =
      reduce(idx(0), dim(pos, 0), load(pos, {t}), [&](Value u, Value acc) {
        Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                           load(seqIds, {u}), mySeq);
        Value later = arith::MaxSIOp::create(b, loc, acc, load(pos, {u}));
        return arith::SelectOp::create(b, loc, same, later, acc).getResult();
      });
  Value lastF = arith::SIToFPOp::create(b, loc, b.getF32Type(), last);
  double orig = static_cast<double>(r.orig);
  Value len = arith::MaximumFOp::create(b, loc, add(lastF, f32(1)), f32(orig));
  Value ratio = sub(mul(f32(r.factor / orig), len), f32(r.factor - 1));
  return mul(f32(r.theta),
             math::PowFOp::create(
                 b, loc, ratio, f32(static_cast<double>(r.rot) / (r.rot - 2))));
}

Value StepLowering::ropeFreq(const RopeParams &r, Value tableOrBase, Value i) {
  if (!r.dynamic())
    return load(tableOrBase, {i});
  Value iF = arith::SIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::IndexCastOp::create(b, loc, b.getI32Type(), i));
  Value expo = div(mul(f32(2), iF), f32(r.rot));
  return div(f32(1), math::PowFOp::create(b, loc, tableOrBase, expo));
}

Value StepLowering::attentionScore(tfm::AttentionOp op, Value q, Value kc,
                                   Value t, Value h, Value kvh, Value seq,
                                   Value j) {
  auto cacheTy = cast<MemRefType>(kc.getType());
  int64_t blockSize = cacheTy.getDimSize(1), headDim = cacheTy.getDimSize(3);
  Value bs = idx(blockSize);
  Value block = loadIndex(lookup(op.getBlockTables()),
                          {seq, arith::DivUIOp::create(b, loc, j, bs)});
  Value off = arith::RemUIOp::create(b, loc, j, bs);
  Value dot = reduce(idx(0), idx(headDim), f32(0), [&](Value d, Value acc) {
    return dotStep(acc, load(q, {t, h, d}), load(kc, {block, off, kvh, d}));
  });
  return mul(dot, f32(op.getScale().convertToDouble()));
}

LogicalResult StepLowering::lowerOp(Operation *op) {
  auto single = [&](Value result, ValueRange dyn,
                    function_ref<void(Value)> fill) -> LogicalResult {
    FailureOr<Value> out = alloc(result, dyn);
    if (failed(out))
      return failure();
    fill(*out);
    mapping[result] = *out;
    return success();
  };
  auto rowsOf = [&](Value tensor) {
    return SmallVector<Value>{dim(lookup(tensor), 0)};
  };

  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<tfm::WeightOp>([&](tfm::WeightOp w) {
        auto ty = w.getType();
        mapping[w] = memref::ViewOp::create(
            b, loc, MemRefType::get(ty.getShape(), ty.getElementType()),
            weightsArg, idx(weightOffsets.lookup(w.getName())), ValueRange{});
        return success();
      })
      .Case<tfm::EmbeddingOp>([&](tfm::EmbeddingOp e) {
        Value table = lookup(e.getTable()), ids = lookup(e.getIds());
        return single(e, rowsOf(e.getIds()), [&](Value out) {
          loopNest({dim(ids, 0), dim(table, 1)}, 0, [&](ValueRange iv) {
            Value row = loadIndex(ids, {iv[0]});
            store(load(table, {row, iv[1]}), out, iv);
          });
        });
      })
      .Case<tfm::RMSNormOp, tfm::LayerNormOp, tfm::AddRMSNormOp,
            tfm::AddLayerNormOp>([&](Operation *norm) -> LogicalResult {
        // The fused forms first write the row's residual sum (result #0),
        // then normalize it, in the same loop over rows.
        bool fusedAdd = isa<tfm::AddRMSNormOp, tfm::AddLayerNormOp>(norm);
        bool layer = isa<tfm::LayerNormOp, tfm::AddLayerNormOp>(norm);
        unsigned params = fusedAdd ? 2 : 1;
        Value in = lookup(norm->getOperand(0));
        Value rhs = fusedAdd ? lookup(norm->getOperand(1)) : Value();
        Value w = lookup(norm->getOperand(params));
        Value bias = layer ? lookup(norm->getOperand(params + 1)) : Value();
        double eps = cast<FloatAttr>(norm->getAttr("eps")).getValueAsDouble();
        auto inTy = cast<MemRefType>(in.getType());
        Value sumBuf;
        if (fusedAdd) {
          FailureOr<Value> s = alloc(norm->getResult(0), dynamicDims(in));
          if (failed(s))
            return failure();
          sumBuf = *s;
          mapping[norm->getResult(0)] = sumBuf;
        }
        Value normed = norm->getResult(fusedAdd ? 1 : 0);
        return single(normed, dynamicDims(in), [&](Value outBuf) {
          Value x = collapse(fusedAdd ? sumBuf : in, 1);
          Value out = collapse(outBuf, 1);
          Value a = fusedAdd ? collapse(in, 1) : Value();
          Value c = fusedAdd ? collapse(rhs, 1) : Value();
          int64_t n = inTy.getShape().back();
          Value nF = f32(static_cast<double>(n)), N = idx(n);
          sharedLoop(dim(x, 0), [&](Value r) {
            if (fusedAdd)
              loop(idx(0), N, [&](Value j) {
                store(add(load(a, {r, j}), load(c, {r, j})), x, {r, j});
              });
            Value mean = f32(0);
            if (layer)
              mean = div(reduce(idx(0), N, f32(0),
                                [&](Value j, Value acc) {
                                  return add(acc, load(x, {r, j}));
                                }),
                         nF);
            Value sq = reduce(idx(0), N, f32(0), [&](Value j, Value acc) {
              Value d = sub(load(x, {r, j}), mean);
              return add(acc, mul(d, d));
            });
            Value inv =
                math::RsqrtOp::create(b, loc, add(div(sq, nF), f32(eps)));
            loop(idx(0), N, [&](Value j) {
              Value y = mul(sub(load(x, {r, j}), mean), inv);
              y = mul(load(w, {j}), y);
              if (layer)
                y = add(y, load(bias, {j}));
              store(y, out, {r, j});
            });
          });
        });
      })
      .Case<tfm::AddOp, tfm::MulOp, tfm::SiLUOp, tfm::GELUOp>(
          [&](Operation *pw) {
            Value first = lookup(pw->getOperand(0));
            return single(
                pw->getResult(0), dynamicDims(first), [&](Value outBuf) {
                  Value out = collapse(outBuf, 0);
                  SmallVector<Value> ins;
                  for (Value v : pw->getOperands())
                    ins.push_back(collapse(lookup(v), 0));
                  sharedLoop(dim(out, 0), [&](Value i) {
                    Value x = load(ins[0], {i}), y;
                    if (isa<tfm::AddOp>(pw)) {
                      y = add(x, load(ins[1], {i}));
                    } else if (isa<tfm::MulOp>(pw)) {
                      y = mul(x, load(ins[1], {i}));
                    } else if (isa<tfm::SiLUOp>(pw)) {
                      y = silu(x);
                    } else {
                      y = gelu(x, cast<tfm::GELUOp>(pw).getApproximation() ==
                                      tfm::GeluApproximation::Tanh);
                    }
                    store(y, out, {i});
                  });
                });
          })
      .Case<tfm::SoftmaxOp>([&](tfm::SoftmaxOp s) -> LogicalResult {
        auto ty = s.getType();
        if (static_cast<int64_t>(s.getAxis()) != ty.getRank() - 1)
          return s.emitOpError()
                 << "the CPU lowering supports softmax on the last axis only";
        Value in = lookup(s.getInput());
        return single(s, dynamicDims(in), [&](Value outBuf) {
          Value x = collapse(in, 1), out = collapse(outBuf, 1);
          Value n = dim(x, 1);
          sharedLoop(dim(x, 0), [&](Value r) {
            Value m =
                reduce(idx(0), n, f32(-INFINITY), [&](Value j, Value acc) {
                  return arith::MaximumFOp::create(b, loc, acc,
                                                   load(x, {r, j}));
                });
            Value sum = reduce(idx(0), n, f32(0), [&](Value j, Value acc) {
              Value e = math::ExpOp::create(b, loc, sub(load(x, {r, j}), m));
              store(e, out, {r, j});
              return add(acc, e);
            });
            loop(idx(0), n, [&](Value j) {
              store(div(load(out, {r, j}), sum), out, {r, j});
            });
          });
        });
      })
      .Case<tfm::LinearOp>([&](tfm::LinearOp l) {
        Value in = lookup(l.getInput()), w = lookup(l.getWeight());
        Value bias = l.getBias() ? lookup(l.getBias()) : Value();
        Value residual = l.getResidual() ? lookup(l.getResidual()) : Value();
        tfm::Epilogue epilogue = l.getEpilogue();
        // Only the leading (row) dimensions can be dynamic: they are the
        // input's.
        SmallVector<Value> dyn = dynamicDims(in);
        return single(l, dyn, [&](Value outBuf) {
          Value x = collapse(in, 1), out = collapse(outBuf, 1);
          Value res = residual ? collapse(residual, 1) : Value();
          Value k = dim(x, 1);
          Value width = dim(out, 1);
          int64_t perChannel = epilogue == tfm::Epilogue::SwiGLU ? 2 : 1;
          // Register blocking from tfm-choose-schedules, or the cost
          // model's choice for a 16-register x86-64 when it did not run.
          auto [rowBlock, channelBlock] =
              tfm::chooseLinearBlocking(perChannel, 16);
          int64_t tileRows = tfm::chooseTileRows(
              l.getWeight().getType().getDimSize(1), rowBlock);
          if (auto sched = l->getAttrOfType<DictionaryAttr>("llmc.schedule")) {
            if (auto r = sched.getAs<IntegerAttr>("row_block"))
              rowBlock = r.getInt();
            if (auto q = sched.getAs<IntegerAttr>("channel_block"))
              channelBlock = q.getInt();
            if (auto t = sched.getAs<IntegerAttr>("tile_rows"))
              tileRows = t.getInt();
          }
          // Output channels `ns` for token rows `ms` in one pass over k:
          // each weight vector loaded feeds every row, each input vector
          // every channel; the accumulators stay in registers.
          auto outputs = [&](ArrayRef<Value> ns, ArrayRef<Value> ms) {
            SmallVector<Value> rows; // weight rows: gate (and up) per channel
            for (Value n : ns) {
              rows.push_back(n);
              if (perChannel == 2)
                rows.push_back(addi(n, width));
            }
            SmallVector<Value> init(rows.size() * ms.size(), f32(0));
            auto forOp = scf::ForOp::create(b, loc, idx(0), k, idx(1), init);
            {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPointToStart(forOp.getBody());
              Value kk = forOp.getInductionVar();
              SmallVector<Value> xs;
              for (Value m : ms)
                xs.push_back(load(x, {m, kk}));
              SmallVector<Value> next;
              for (auto [r, row] : llvm::enumerate(rows)) {
                Value wv = load(w, {row, kk});
                for (size_t i = 0; i < ms.size(); ++i)
                  next.push_back(dotStep(
                      forOp.getRegionIterArgs()[r * ms.size() + i], xs[i], wv));
              }
              scf::YieldOp::create(b, loc, next);
            }
            for (auto [c, n] : llvm::enumerate(ns)) {
              for (auto [i, m] : llvm::enumerate(ms)) {
                auto dotOf = [&](size_t which) {
                  size_t r = c * perChannel + which;
                  Value acc = forOp.getResult(r * ms.size() + i);
                  return bias ? add(acc, load(bias, {rows[r]})) : acc;
                };
                Value y;
                switch (epilogue) {
                case tfm::Epilogue::None:
                  y = dotOf(0);
                  break;
                case tfm::Epilogue::SwiGLU:
                  y = mul(silu(dotOf(0)), dotOf(1));
                  break;
                case tfm::Epilogue::GELU:
                case tfm::Epilogue::GELUTanh:
                  y = gelu(dotOf(0), epilogue == tfm::Epilogue::GELUTanh);
                  break;
                }
                if (res)
                  y = add(y, load(res, {m, n}));
                store(y, out, {m, n});
              }
            }
          };
          // `body(first)` for blocks of `block` in [lb, ub), then one at a
          // time for the remainder.
          auto blocked = [&](Value lb, Value ub, int64_t block,
                             function_ref<void(ArrayRef<Value>)> body) {
            Value full =
                addi(lb, muli(arith::DivUIOp::create(
                                  b, loc, arith::SubIOp::create(b, loc, ub, lb),
                                  idx(block)),
                              idx(block)));
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
          };
          // Weight-stationary: blocks of output channels outside (this
          // thread's share), blocks of token rows inside, so each weight
          // row is read from memory once per step.
          // Long prefills go through in tiles of `tileRows` token rows
          // whose inputs fit in cache, each tile sweeping the weights once.
          auto [first, last] = share(width);
          Value rowsTotal = dim(x, 0);
          auto tiles =
              scf::ForOp::create(b, loc, idx(0), rowsTotal, idx(tileRows));
          {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPointToStart(tiles.getBody());
            Value t0 = tiles.getInductionVar();
            Value t1 = arith::MinUIOp::create(b, loc, addi(t0, idx(tileRows)),
                                              rowsTotal);
            blocked(first, last, channelBlock, [&](ArrayRef<Value> ns) {
              blocked(t0, t1, rowBlock,
                      [&](ArrayRef<Value> ms) { outputs(ns, ms); });
            });
          }
        });
      })
      .Case<tfm::MatmulOp>([&](tfm::MatmulOp m) {
        Value lhs = lookup(m.getLhs()), rhs = lookup(m.getRhs());
        SmallVector<Value> dyn;
        auto ty = m.getType();
        for (int64_t i = 0; i < ty.getRank(); ++i)
          if (ty.isDynamicDim(i))
            dyn.push_back(i == ty.getRank() - 1 ? dim(rhs, i) : dim(lhs, i));
        return single(m, dyn, [&](Value outBuf) {
          Value a = collapse(lhs, 2), c = collapse(rhs, 2),
                out = collapse(outBuf, 2);
          loopNest({dim(a, 0), dim(a, 1), dim(c, 2)}, 2, [&](ValueRange iv) {
            Value acc =
                reduce(idx(0), dim(a, 2), f32(0), [&](Value kk, Value s) {
                  return dotStep(s, load(a, {iv[0], iv[1], kk}),
                                 load(c, {iv[0], kk, iv[2]}));
                });
            store(acc, out, iv);
          });
        });
      })
      .Case<tfm::RoPEOp>([&](tfm::RoPEOp r) {
        Value in = lookup(r.getInput()), pos = lookup(r.getPositions());
        Value seqIds = r.getSeqIds() ? lookup(r.getSeqIds()) : Value();
        RopeParams rp = RopeParams::from(r);
        int64_t half = rp.rot / 2;
        // The constant table is hoisted; a dynamic base is per token.
        Value table = rp.dynamic() ? Value() : ropeTable(rp);
        return single(r, {dim(in, 0)}, [&](Value out) {
          loopNest({dim(in, 0), dim(in, 1)}, 1, [&](ValueRange th) {
            Value p = arith::SIToFPOp::create(b, loc, b.getF32Type(),
                                              load(pos, {th[0]}));
            Value base = table ? table : ropeBase(rp, seqIds, pos, th[0]);
            loop(idx(0), idx(half), [&](Value i) {
              Value angle = mul(p, ropeFreq(rp, base, i));
              Value c = math::CosOp::create(b, loc, angle);
              Value s = math::SinOp::create(b, loc, angle);
              Value i2 = addi(i, idx(half));
              Value x1 = load(in, {th[0], th[1], i});
              Value x2 = load(in, {th[0], th[1], i2});
              store(sub(mul(x1, c), mul(x2, s)), out, {th[0], th[1], i});
              store(add(mul(x2, c), mul(x1, s)), out, {th[0], th[1], i2});
            });
            loop(idx(rp.rot), idx(r.getType().getDimSize(2)), [&](Value i) {
              store(load(in, {th[0], th[1], i}), out, {th[0], th[1], i});
            });
          });
        });
      })
      .Case<tfm::QKVRopeCacheOp>([&](tfm::QKVRopeCacheOp q) -> LogicalResult {
        if (!q.getKeyCache().hasOneUse() || !q.getValueCache().hasOneUse())
          return q.emitOpError()
                 << "cache operands must have no other use: the CPU "
                    "lowering updates the caches in place";
        Value x = lookup(q.getInput()), w = lookup(q.getWeight());
        Value bias = q.getBias() ? lookup(q.getBias()) : Value();
        Value pos = lookup(q.getPositions()), slots = lookup(q.getSlots());
        Value kc = lookup(q.getKeyCache()), vc = lookup(q.getValueCache());
        Value seqIds = q.getSeqIds() ? lookup(q.getSeqIds()) : Value();
        auto cacheTy = q.getKeyCache().getType();
        int64_t heads = q.getQuery().getType().getDimSize(1);
        int64_t kvHeads = cacheTy.getDimSize(2),
                headDim = cacheTy.getDimSize(3);
        int64_t blockSize = cacheTy.getDimSize(1);
        bool rope = q.getRotaryDim().has_value();
        RopeParams rp = rope ? RopeParams::from(q) : RopeParams();
        Value table = rope && !rp.dynamic() ? ropeTable(rp) : Value();
        mapping[q.getKeyCacheOut()] = kc;
        mapping[q.getValueCacheOut()] = vc;
        return single(q.getQuery(), {dim(x, 0)}, [&](Value out) {
          Value k = dim(x, 1);
          // Heads outside (split across threads), tokens inside: a head's
          // weight rows stay in cache across the step's tokens.
          auto forTokens = [&](function_ref<void(
                                   Value,
                                   function_ref<void(
                                       Value, bool,
                                       function_ref<void(Value, Value)>)>)>
                                   body) {
            loop(idx(0), dim(x, 0), [&](Value t) {
              // One projected channel: row `row` of the weight for token t.
              auto channel = [&](Value row) {
                Value acc = reduce(idx(0), k, f32(0), [&](Value kk, Value a) {
                  return dotStep(a, load(x, {t, kk}), load(w, {row, kk}));
                });
                return bias ? add(acc, load(bias, {row})) : acc;
              };
              Value p = arith::SIToFPOp::create(b, loc, b.getF32Type(),
                                                load(pos, {t}));
              Value base = rope ? (table ? table : ropeBase(rp, seqIds, pos, t))
                                : Value();
              // The head whose rows start at `first`, rotated when `rotate`,
              // stored by `put(channel index, value)`.
              auto emitHead = [&](Value first, bool rotate,
                                  function_ref<void(Value, Value)> put) {
                int64_t from = 0;
                if (rotate) {
                  int64_t half = rp.rot / 2;
                  loop(idx(0), idx(half), [&](Value i) {
                    Value i2 = addi(i, idx(half));
                    Value x1 = channel(addi(first, i));
                    Value x2 = channel(addi(first, i2));
                    Value angle = mul(p, ropeFreq(rp, base, i));
                    Value c = math::CosOp::create(b, loc, angle);
                    Value s = math::SinOp::create(b, loc, angle);
                    put(i, sub(mul(x1, c), mul(x2, s)));
                    put(i2, add(mul(x2, c), mul(x1, s)));
                  });
                  from = rp.rot;
                }
                loop(idx(from), idx(headDim),
                     [&](Value i) { put(i, channel(addi(first, i))); });
              };
              body(t, emitHead);
            });
          };
          sharedLoop(idx(heads), [&](Value h) {
            forTokens([&](Value t, auto emitHead) {
              emitHead(muli(h, idx(headDim)), rope, [&](Value i, Value v) {
                store(v, out, {t, h, i});
              });
            });
          });
          sharedLoop(idx(kvHeads), [&](Value g) {
            forTokens([&](Value t, auto emitHead) {
              atSlot(slots, t, blockSize, [&](Value blk, Value off) {
                Value keyRow = muli(addi(idx(heads), g), idx(headDim));
                emitHead(keyRow, rope, [&](Value i, Value v) {
                  store(v, kc, {blk, off, g, i});
                });
                Value valueRow =
                    muli(addi(idx(heads + kvHeads), g), idx(headDim));
                emitHead(valueRow, false, [&](Value i, Value v) {
                  store(v, vc, {blk, off, g, i});
                });
              });
            });
          });
        });
      })
      .Case<tfm::KVCacheWriteOp>([&](tfm::KVCacheWriteOp w) -> LogicalResult {
        if (!w.getCache().hasOneUse())
          return w.emitOpError()
                 << "cache operand must have no other use: the CPU lowering "
                    "updates the cache in place";
        Value cache = lookup(w.getCache()), values = lookup(w.getValues()),
              slots = lookup(w.getSlots());
        int64_t blockSize = w.getType().getDimSize(1);
        sharedLoop(dim(values, 0), [&](Value t) {
          atSlot(slots, t, blockSize, [&](Value blk, Value off) {
            loopNest({dim(values, 1), dim(values, 2)}, -1, [&](ValueRange hd) {
              store(load(values, {t, hd[0], hd[1]}), cache,
                    {blk, off, hd[0], hd[1]});
            });
          });
        });
        mapping[w] = cache;
        return success();
      })
      .Case<tfm::AttentionOp>([&](tfm::AttentionOp a) {
        Value q = lookup(a.getQuery()), kc = lookup(a.getKeyCache()),
              vc = lookup(a.getValueCache());
        Value seqIds = lookup(a.getSeqIds()), pos = lookup(a.getPositions());
        int64_t heads = a.getType().getDimSize(1);
        int64_t kvHeads = a.getKeyCache().getType().getDimSize(2);
        int64_t headDim = a.getType().getDimSize(2);
        int64_t blockSize = a.getKeyCache().getType().getDimSize(1);
        std::optional<uint64_t> window = a.getSlidingWindow();
        return single(a, {dim(q, 0)}, [&](Value out) {
          loopNest({dim(q, 0), idx(heads)}, 1, [&](ValueRange th) {
            Value t = th[0], h = th[1];
            Value kvh = arith::DivUIOp::create(b, loc, h, idx(heads / kvHeads));
            Value seq = loadIndex(seqIds, {t});
            Value end = addi(loadIndex(pos, {t}), idx(1));
            Value start = idx(0);
            if (window) {
              Value w = idx(static_cast<int64_t>(*window));
              Value past = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::ugt, end, w);
              start = arith::SelectOp::create(
                  b, loc, past, arith::SubIOp::create(b, loc, end, w), idx(0));
            }
            Value m =
                reduce(start, end, f32(-INFINITY), [&](Value j, Value acc) {
                  return arith::MaximumFOp::create(
                      b, loc, acc, attentionScore(a, q, kc, t, h, kvh, seq, j));
                });
            loop(idx(0), idx(headDim), [&](Value d) {
              store(f32(0), out, {t, h, d});
            });
            Value bs = idx(blockSize);
            Value sum = reduce(start, end, f32(0), [&](Value j, Value acc) {
              Value e = math::ExpOp::create(
                  b, loc, sub(attentionScore(a, q, kc, t, h, kvh, seq, j), m));
              Value block =
                  loadIndex(lookup(a.getBlockTables()),
                            {seq, arith::DivUIOp::create(b, loc, j, bs)});
              Value off = arith::RemUIOp::create(b, loc, j, bs);
              loop(idx(0), idx(headDim), [&](Value d) {
                Value v = load(vc, {block, off, kvh, d});
                store(add(load(out, {t, h, d}), mul(e, v)), out, {t, h, d});
              });
              return add(acc, e);
            });
            loop(idx(0), idx(headDim), [&](Value d) {
              store(div(load(out, {t, h, d}), sum), out, {t, h, d});
            });
          });
        });
      })
      .Case<tfm::GatherLastTokensOp>([&](tfm::GatherLastTokensOp g) {
        Value in = lookup(g.getInput()), indices = lookup(g.getIndices());
        return single(g, {dim(indices, 0)}, [&](Value out) {
          loopNest({dim(indices, 0), dim(in, 1)}, 1, [&](ValueRange iv) {
            Value row = loadIndex(indices, {iv[0]});
            store(load(in, {row, iv[1]}), out, iv);
          });
        });
      })
      .Case<tfm::ReshapeOp>([&](tfm::ReshapeOp r) -> LogicalResult {
        auto ty = r.getType();
        for (int64_t i = 1; i < ty.getRank(); ++i)
          if (ty.isDynamicDim(i))
            return r.emitOpError()
                   << "the CPU lowering supports a dynamic dimension only "
                      "in front";
        Value in = lookup(r.getInput());
        SmallVector<OpFoldResult> sizes;
        int64_t known = 1;
        for (int64_t d : ty.getShape())
          if (!ShapedType::isDynamic(d))
            known *= d;
        for (int64_t d : ty.getShape()) {
          if (!ShapedType::isDynamic(d)) {
            sizes.push_back(b.getIndexAttr(d));
            continue;
          }
          Value total = idx(1);
          for (Value s : dims(in))
            total = muli(total, s);
          sizes.push_back(
              arith::DivUIOp::create(b, loc, total, idx(known)).getResult());
        }
        mapping[r] = reinterpretContiguous(in, ty.getShape(), sizes);
        return success();
      })
      .Case<tfm::TransposeOp>([&](tfm::TransposeOp t) {
        Value in = lookup(t.getInput());
        ArrayRef<int64_t> perm = t.getPermutation();
        SmallVector<Value> dyn;
        for (int64_t i = 0; i < t.getType().getRank(); ++i)
          if (t.getType().isDynamicDim(i))
            dyn.push_back(dim(in, perm[i]));
        return single(t, dyn, [&](Value out) {
          loopNest(dims(out), 0, [&](ValueRange iv) {
            SmallVector<Value> src(iv.size());
            for (auto [i, p] : llvm::enumerate(perm))
              src[p] = iv[i];
            store(load(in, src), out, iv);
          });
        });
      })
      .Case<tfm::ConcatOp>([&](tfm::ConcatOp c) {
        int64_t axis = c.getAxis();
        SmallVector<Value> dyn;
        Value first = lookup(c.getInputs()[0]);
        for (int64_t i = 0; i < c.getType().getRank(); ++i) {
          if (!c.getType().isDynamicDim(i))
            continue;
          Value size = i == axis ? idx(0) : dim(first, i);
          if (i == axis)
            for (Value v : c.getInputs())
              size = addi(size, dim(lookup(v), axis));
          dyn.push_back(size);
        }
        return single(c, dyn, [&](Value out) {
          Value offset = idx(0);
          for (Value v : c.getInputs()) {
            Value in = lookup(v);
            loopNest(dims(in), 0, [&](ValueRange iv) {
              SmallVector<Value> dst(iv);
              dst[axis] = addi(dst[axis], offset);
              store(load(in, iv), out, dst);
            });
            offset = addi(offset, dim(in, axis));
          }
        });
      })
      .Case<tfm::SplitOp, tfm::SliceOp>([&](Operation *part) {
        Value in = lookup(part->getOperand(0));
        int64_t axis = cast<IntegerAttr>(part->getAttr("axis")).getInt();
        Value offset = idx(0);
        if (auto s = dyn_cast<tfm::SliceOp>(part))
          offset = idx(s.getStart());
        for (Value res : part->getResults()) {
          auto ty = cast<RankedTensorType>(res.getType());
          SmallVector<Value> dyn;
          for (int64_t i = 0; i < ty.getRank(); ++i)
            if (ty.isDynamicDim(i))
              dyn.push_back(dim(in, i));
          if (failed(single(res, dyn, [&](Value out) {
                loopNest(dims(out), 0, [&](ValueRange iv) {
                  SmallVector<Value> src(iv);
                  src[axis] = addi(src[axis], offset);
                  store(load(in, src), out, iv);
                });
              })))
            return failure();
          offset = addi(offset, idx(ty.getDimSize(axis)));
        }
        return success();
      })
      .Case<tfm::ArgmaxOp>([&](tfm::ArgmaxOp a) {
        Value logits = lookup(a.getLogits());
        Type idTy = a.getType().getElementType();
        return single(a, {dim(logits, 0)}, [&](Value out) {
          sharedLoop(dim(logits, 0), [&](Value r) {
            auto forOp =
                scf::ForOp::create(b, loc, idx(0), dim(logits, 1), idx(1),
                                   ValueRange{f32(-INFINITY), idx(0)});
            {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPointToStart(forOp.getBody());
              Value j = forOp.getInductionVar();
              Value best = forOp.getRegionIterArgs()[0];
              Value x = load(logits, {r, j});
              Value better = arith::CmpFOp::create(
                  b, loc, arith::CmpFPredicate::OGT, x, best);
              scf::YieldOp::create(
                  b, loc,
                  ValueRange{
                      arith::SelectOp::create(b, loc, better, x, best),
                      arith::SelectOp::create(b, loc, better, j,
                                              forOp.getRegionIterArgs()[1])});
            }
            store(arith::IndexCastOp::create(b, loc, idTy, forOp.getResult(1)),
                  out, {r});
          });
        });
      })
      .Case<tfm::SampleOp, tfm::AllReduceOp, tfm::SendOp, tfm::RecvOp>(
          [&](Operation *o) {
            return o->emitOpError()
                   << "is not supported by the single-rank CPU lowering "
                      "(sampling runs in the runtime; collectives need a "
                      "parallel build)";
          })
      .Default([&](Operation *o) {
        return o->emitOpError() << "cannot be lowered to loops";
      });
}

LogicalResult StepLowering::run() {
  if (failed(checkSignature()))
    return failure();
  if (auto plannedFor =
          module->getAttrOfType<IntegerAttr>("llmc.arena_max_tokens")) {
    if (plannedFor.getInt() != maxTokens)
      return step.emitOpError()
             << "the arena was planned for " << plannedFor.getInt()
             << " tokens but max-tokens is " << maxTokens;
    planned = true;
  }
  assignWeights();

  MLIRContext *ctx = module.getContext();
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32Ty = b.getF32Type();
  int64_t dynamic = ShapedType::kDynamic;
  auto vec = [&](Type t) { return MemRefType::get({dynamic}, t); };
  FunctionType fty = step.getFunctionType();
  int64_t vocab = cast<RankedTensorType>(fty.getResult(0)).getDimSize(1);
  SmallVector<Type> args{vec(i32),
                         vec(i32),
                         vec(i32),
                         vec(i32),
                         MemRefType::get({dynamic, dynamic}, i32),
                         vec(i32),
                         vec(i8),
                         vec(i8),
                         vec(i8),
                         MemRefType::get({dynamic, vocab}, f32Ty),
                         b.getIndexType(),
                         b.getIndexType()};
  b.setInsertionPointToEnd(module.getBody());
  lowered =
      func::FuncOp::create(b, loc, "llmc_step", b.getFunctionType(args, {}));
  lowered->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  Block *entry = lowered.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Block &body = step.getBody().front();
  for (int64_t i = 0; i < kNumFixedArgs; ++i)
    mapping[body.getArgument(i)] = entry->getArgument(i);
  weightsArg = entry->getArgument(6);
  kvArg = entry->getArgument(7);
  scratchArg = entry->getArgument(8);
  logitsArg = entry->getArgument(9);
  threadIndex = entry->getArgument(10);
  numThreads = entry->getArgument(11);
  // The runtime's barrier: every thread runs the step, a kernel at a time.
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(module.getBody());
    func::FuncOp::create(b, loc, "llmc_barrier", b.getFunctionType({}, {}))
        .setPrivate();
  }
  logitsResult = body.getTerminator()->getOperand(0);

  // The pool holds every cache's blocks, layer-major: cache i starts at
  // i * num_blocks * block_bytes(i) when all caches share one layout.
  SmallVector<int64_t> blockBytes;
  for (unsigned i = kNumFixedArgs; i < body.getNumArguments(); ++i) {
    auto ty = cast<RankedTensorType>(body.getArgument(i).getType());
    blockBytes.push_back(ty.getDimSize(1) * ty.getDimSize(2) *
                         ty.getDimSize(3) * elementBytes(ty.getElementType()));
    kvBlockBytes += blockBytes.back();
  }
  Value numBlocks =
      arith::DivUIOp::create(b, loc, dim(kvArg, 0), idx(kvBlockBytes));
  Value cursor = idx(0);
  for (unsigned i = kNumFixedArgs; i < body.getNumArguments(); ++i) {
    auto ty = cast<RankedTensorType>(body.getArgument(i).getType());
    mapping[body.getArgument(i)] = memref::ViewOp::create(
        b, loc, MemRefType::get(ty.getShape(), ty.getElementType()), kvArg,
        cursor, ValueRange{numBlocks});
    cursor = addi(cursor, muli(numBlocks, idx(blockBytes[i - kNumFixedArgs])));
  }

  for (Operation &op : body.without_terminator()) {
    if (failed(lowerOp(&op)))
      return failure();
    if (!isa<tfm::WeightOp, tfm::ReshapeOp>(op))
      func::CallOp::create(b, loc, "llmc_barrier", TypeRange{});
  }
  Operation *ret = body.getTerminator();
  for (unsigned i = 1; i < ret->getNumOperands(); ++i)
    if (lookup(ret->getOperand(i)) !=
        mapping.lookup(body.getArgument(kNumFixedArgs + i - 1)))
      return ret->emitOpError()
             << "result #" << i
             << " must be the in-place update of its cache operand";
  if (lookup(logitsResult) != logitsArg)
    return ret->emitOpError() << "the logits must be computed in the step";
  func::ReturnOp::create(b, loc);

  module->setAttr(
      "llmc.abi",
      b.getDictionaryAttr({
          b.getNamedAttr("arena_bytes", b.getI64IntegerAttr(arenaBytes)),
          b.getNamedAttr("weights_bytes", b.getI64IntegerAttr(weightBytes)),
          b.getNamedAttr("kv_bytes_per_block",
                         b.getI64IntegerAttr(kvBlockBytes)),
          b.getNamedAttr("max_tokens", b.getI64IntegerAttr(maxTokens)),
          b.getNamedAttr("vocab_size", b.getI64IntegerAttr(vocab)),
      }));
  step.erase();
  return success();
}

struct ConvertTransformerToLoops
    : llmc::impl::ConvertTransformerToLoopsBase<ConvertTransformerToLoops> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>("step");
    if (!step) {
      module.emitError() << "no func.func @step to lower";
      return signalPassFailure();
    }
    if (maxTokens <= 0) {
      module.emitError() << "max-tokens must be positive";
      return signalPassFailure();
    }
    if (failed(StepLowering(module, step, maxTokens).run()))
      signalPassFailure();
  }
};

} // namespace
