//===- RopeCacheOps.cpp - RoPE, KV-cache writes, the fused QKV kernel -----===//
#include "KernelLowering.h"

#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace llmc {
namespace {

/// The frequencies of one RoPE inside a kernel: a constant table shared by
/// every kernel of the module that has the same frequencies, or for
/// dynamic NTK a base computed per token.
class RopeEmitter {
public:
  RopeEmitter(LoopBuilder &b, Operation *op, tfm::RopeAttr rope)
      : b(b), op(op), rope(rope) {}

  /// The frequency source of the kernel: the table (hoisted), or null.
  Value table() {
    if (rope.isDynamic())
      return {};
    SmallVector<float> inv = rope.getInverseFrequencies();
    auto ty = MemRefType::get({static_cast<int64_t>(inv.size())},
                              b.builder().getF32Type());
    auto tensorTy = RankedTensorType::get(ty.getShape(), ty.getElementType());
    auto values = DenseElementsAttr::get(tensorTy, ArrayRef<float>(inv));
    auto module = op->getParentOfType<ModuleOp>();
    std::string name;
    int64_t count = 0;
    for (auto g : module.getOps<memref::GlobalOp>()) {
      if (!g.getSymName().starts_with("__llmc_rope_inv_freq_"))
        continue;
      ++count;
      if (g.getInitialValueAttr() == values)
        name = g.getSymName().str();
    }
    if (name.empty()) {
      name = "__llmc_rope_inv_freq_" + std::to_string(count);
      auto gb = OpBuilder::atBlockBegin(module.getBody());
      memref::GlobalOp::create(gb, b.getLoc(), name,
                               gb.getStringAttr("private"), ty, values,
                               /*constant=*/true, /*alignment=*/nullptr);
    }
    return memref::GetGlobalOp::create(b.builder(), b.getLoc(), ty, name);
  }

  /// The frequency source of token t: the table, or for dynamic NTK its
  /// scaled base theta' = theta * (factor * L / orig - (factor - 1)) ^
  /// (rot / (rot - 2)) with L = 1 + the largest position of the token's
  /// sequence in the step (at least orig).
  Value base(Value table, Value seqIds, Value pos, Value t) {
    if (table)
      return table;
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();
    Value mySeq = b.load(seqIds, {t});
    Value last = b.reduce(
        b.idx(0), b.dim(pos, 0), b.load(pos, {t}), [&](Value u, Value acc) {
          Value same = arith::CmpIOp::create(ob, loc, arith::CmpIPredicate::eq,
                                             b.load(seqIds, {u}), mySeq);
          Value later = arith::MaxSIOp::create(ob, loc, acc, b.load(pos, {u}));
          return arith::SelectOp::create(ob, loc, same, later, acc).getResult();
        });
    Value lastF = arith::SIToFPOp::create(ob, loc, ob.getF32Type(), last);
    double orig = static_cast<double>(*rope.getOriginalMaxPositions());
    double factor = rope.getFactorValue();
    int64_t rot = rope.getRotaryDim();
    Value len =
        arith::MaximumFOp::create(ob, loc, b.add(lastF, b.f32(1)), b.f32(orig));
    Value ratio = b.sub(b.mul(b.f32(factor / orig), len), b.f32(factor - 1));
    return b.mul(
        b.f32(rope.getThetaValue()),
        math::PowFOp::create(ob, loc, ratio,
                             b.f32(static_cast<double>(rot) / (rot - 2))));
  }

  /// inv_freq[i] from the source `base` returned.
  Value freq(Value base, Value i) {
    if (!rope.isDynamic())
      return b.load(base, {i});
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();
    Value iF = arith::SIToFPOp::create(
        ob, loc, ob.getF32Type(),
        arith::IndexCastOp::create(ob, loc, ob.getI32Type(), i));
    Value expo = b.div(b.mul(b.f32(2), iF),
                       b.f32(static_cast<double>(rope.getRotaryDim())));
    return b.div(b.f32(1), math::PowFOp::create(ob, loc, base, expo));
  }

  /// Rotates the pair (x1, x2) by `angle`: (x1 c - x2 s, x2 c + x1 s).
  std::pair<Value, Value> rotate(Value x1, Value x2, Value angle) {
    Value c = math::CosOp::create(b.builder(), b.getLoc(), angle);
    Value s = math::SinOp::create(b.builder(), b.getLoc(), angle);
    return {b.sub(b.mul(x1, c), b.mul(x2, s)),
            b.add(b.mul(x2, c), b.mul(x1, s))};
  }

private:
  LoopBuilder &b;
  Operation *op;
  tfm::RopeAttr rope;
};

/// For every token, this invocation's heads; channel i pairs with
/// i + rotary_dim / 2; the channels past rotary_dim are copied.
struct RopeLowering : KernelPattern<tfm::RoPEOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::RoPEOp r, const KernelBuffers &k, LoopBuilder &b,
                      Value begin, Value end) const override {
    Value in = k.of(r.getInput()), pos = k.of(r.getPositions());
    Value seqIds = r.getSeqIds() ? k.of(r.getSeqIds()) : Value();
    Value out = k.results[0];
    RopeEmitter rope(b, r, r.getRope());
    int64_t rot = r.getRope().getRotaryDim(), half = rot / 2;
    OpBuilder &ob = b.builder();
    Value table = rope.table();
    b.loopNest(
        {b.dim(in, 0), b.dim(in, 1)},
        [&](ValueRange th) {
          Value p = arith::SIToFPOp::create(ob, b.getLoc(), ob.getF32Type(),
                                            b.load(pos, {th[0]}));
          Value base = rope.base(table, seqIds, pos, th[0]);
          b.loop(b.idx(0), b.idx(half), [&](Value i) {
            Value angle = b.mul(p, rope.freq(base, i));
            Value c = math::CosOp::create(ob, b.getLoc(), angle);
            Value s = math::SinOp::create(ob, b.getLoc(), angle);
            Value i2 = b.addi(i, b.idx(half));
            Value x1 = b.load(in, {th[0], th[1], i});
            Value x2 = b.load(in, {th[0], th[1], i2});
            b.store(b.sub(b.mul(x1, c), b.mul(x2, s)), out, {th[0], th[1], i});
            b.store(b.add(b.mul(x2, c), b.mul(x1, s)), out, {th[0], th[1], i2});
          });
          b.loop(b.idx(rot), b.idx(r.getType().getDimSize(2)), [&](Value i) {
            b.store(b.load(in, {th[0], th[1], i}), out, {th[0], th[1], i});
          });
        },
        /*ranged=*/1, begin, end);
    return success();
  }
};

/// This invocation's tokens; a negative slot skips the token, the others
/// go to block slot / block_size, row slot % block_size, in place.
struct KVCacheWriteLowering : KernelPattern<tfm::KVCacheWriteOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::KVCacheWriteOp w, const KernelBuffers &k,
                      LoopBuilder &b, Value begin, Value end) const override {
    Value cache = k.of(w.getCache()), values = k.of(w.getValues()),
          slots = k.of(w.getSlots());
    if (k.results[0] != cache)
      return w.emitOpError() << "must store into the cache it updates";
    int64_t blockSize = w.getType().getDimSize(1);
    b.loop(begin, end, [&](Value t) {
      b.atSlot(slots, t, blockSize, [&](Value blk, Value off) {
        b.loopNest({b.dim(values, 1), b.dim(values, 2)}, [&](ValueRange hd) {
          b.store(b.load(values, {t, hd[0], hd[1]}), cache,
                  {blk, off, hd[0], hd[1]});
        });
      });
    });
    return success();
  }
};

/// The QKV projection with RoPE and both cache writes as its epilogue. Work
/// items: the query heads, then the KV heads' keys, then their values; for
/// each, the token loop sits inside, so a head's weight rows stay in cache
/// across the step's tokens.
struct QKVRopeCacheLowering : KernelPattern<tfm::QKVRopeCacheOp> {
  using KernelPattern::KernelPattern;

  LogicalResult lower(tfm::QKVRopeCacheOp q, const KernelBuffers &k,
                      LoopBuilder &b, Value begin, Value end) const override {
    Value x = k.of(q.getInput()), w = k.of(q.getWeight());
    Value bias = q.getBias() ? k.of(q.getBias()) : Value();
    Value pos = k.of(q.getPositions()), slots = k.of(q.getSlots());
    Value kc = k.of(q.getKeyCache()), vc = k.of(q.getValueCache());
    Value seqIds = q.getSeqIds() ? k.of(q.getSeqIds()) : Value();
    if (k.results[1] != kc || k.results[2] != vc)
      return q.emitOpError() << "must store into the caches it updates";
    Value out = k.results[0];
    auto cacheTy = q.getKeyCache().getType();
    int64_t heads = q.getQuery().getType().getDimSize(1);
    int64_t kvHeads = cacheTy.getDimSize(2), headDim = cacheTy.getDimSize(3);
    int64_t blockSize = cacheTy.getDimSize(1);
    tfm::RopeAttr ropeAttr = q.getRopeAttr();
    std::optional<RopeEmitter> rope;
    if (ropeAttr)
      rope.emplace(b, q, ropeAttr);
    Value table = rope ? rope->table() : Value();
    OpBuilder &ob = b.builder();
    Location loc = b.getLoc();
    Value kdim = b.dim(x, 1);

    // For every token t: `body(t, emitHead)` where emitHead(first, rotate,
    // put) computes the head whose weight rows start at `first`, rotated
    // when `rotate`, and stores channel i's value by put(i, value).
    using Put = function_ref<void(Value, Value)>;
    using EmitHead = function_ref<void(Value, bool, Put)>;
    auto forTokens = [&](function_ref<void(Value, EmitHead)> body) {
      b.loop(b.idx(0), b.dim(x, 0), [&](Value t) {
        auto channel = [&](Value row) {
          Value acc =
              b.reduce(b.idx(0), kdim, b.f32(0), [&](Value kk, Value a) {
                return b.dotStep(a, b.load(x, {t, kk}), b.weightAt(w, row, kk));
              });
          if (Value scale = b.rowScale(w, row, kdim))
            acc = b.mul(acc, scale);
          return bias ? b.add(acc, b.load(bias, {row})) : acc;
        };
        Value p =
            arith::SIToFPOp::create(ob, loc, ob.getF32Type(), b.load(pos, {t}));
        Value base = rope ? rope->base(table, seqIds, pos, t) : Value();
        auto emitHead = [&](Value first, bool rotate, Put put) {
          int64_t from = 0;
          if (rotate) {
            int64_t half = ropeAttr.getRotaryDim() / 2;
            b.loop(b.idx(0), b.idx(half), [&](Value i) {
              Value i2 = b.addi(i, b.idx(half));
              Value x1 = channel(b.addi(first, i));
              Value x2 = channel(b.addi(first, i2));
              Value angle = b.mul(p, rope->freq(base, i));
              Value c = math::CosOp::create(ob, loc, angle);
              Value s = math::SinOp::create(ob, loc, angle);
              put(i, b.sub(b.mul(x1, c), b.mul(x2, s)));
              put(i2, b.add(b.mul(x2, c), b.mul(x1, s)));
            });
            from = ropeAttr.getRotaryDim();
          }
          b.loop(b.idx(from), b.idx(headDim),
                 [&](Value i) { put(i, channel(b.addi(first, i))); });
        };
        body(t, emitHead);
      });
    };
    // The part of [begin, end) in [lo, lo + n), shifted to [0, n).
    auto part = [&](int64_t lo, int64_t n) {
      Value l = b.idx(lo);
      return std::make_pair(b.clamp(b.subi(begin, l), b.idx(0), b.idx(n)),
                            b.clamp(b.subi(end, l), b.idx(0), b.idx(n)));
    };
    auto [qb, qe] = part(0, heads);
    b.loop(qb, qe, [&](Value h) {
      forTokens([&](Value t, EmitHead emitHead) {
        emitHead(b.muli(h, b.idx(headDim)), rope.has_value(),
                 [&](Value i, Value v) {
                   b.store(v, out, {t, h, i});
                 });
      });
    });
    auto [kb, ke] = part(heads, kvHeads);
    b.loop(kb, ke, [&](Value g) {
      forTokens([&](Value t, EmitHead emitHead) {
        b.atSlot(slots, t, blockSize, [&](Value blk, Value off) {
          Value keyRow = b.muli(b.addi(b.idx(heads), g), b.idx(headDim));
          emitHead(keyRow, rope.has_value(), [&](Value i, Value v) {
            b.store(v, kc, {blk, off, g, i});
          });
        });
      });
    });
    auto [vb, ve] = part(heads + kvHeads, kvHeads);
    b.loop(vb, ve, [&](Value g) {
      forTokens([&](Value t, EmitHead emitHead) {
        b.atSlot(slots, t, blockSize, [&](Value blk, Value off) {
          Value valueRow =
              b.muli(b.addi(b.idx(heads + kvHeads), g), b.idx(headDim));
          emitHead(valueRow, false, [&](Value i, Value v) {
            b.store(v, vc, {blk, off, g, i});
          });
        });
      });
    });
    return success();
  }
};

} // namespace

void populateRopeCacheLoweringPatterns(RewritePatternSet &patterns,
                                       const TargetInfo &target) {
  patterns.add<RopeLowering, KVCacheWriteLowering, QKVRopeCacheLowering>(
      patterns.getContext(), target);
}

} // namespace llmc
