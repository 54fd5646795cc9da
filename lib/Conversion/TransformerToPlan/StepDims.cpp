//===- StepDims.cpp - which step dimension each dynamic size is -----------===//
#include "StepDims.h"

#include "llmc/Dialect/Transformer/IR/TransformerOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using llmc::schema::StepDim;

namespace llmc {

namespace {

/// A dimension of another value that has the same size.
struct Same {
  Value value;
  int64_t dim;
};

int64_t staticProduct(ShapedType t) {
  int64_t n = 1;
  for (int64_t d : t.getShape())
    if (!ShapedType::isDynamic(d))
      n *= d;
  return n;
}

/// Where dimension `d` of result `r` of `op` takes its size from.
std::optional<Same> sameAs(Operation *op, unsigned r, int64_t d) {
  using R = std::optional<Same>;
  int64_t rank = cast<ShapedType>(op->getResult(r).getType()).getRank();
  return TypeSwitch<Operation *, R>(op)
      .Case<tfm::EmbeddingOp>([&](tfm::EmbeddingOp e) -> R {
        return d == 0 ? Same{e.getIds(), 0} : Same{e.getTable(), d};
      })
      .Case<tfm::GatherLastTokensOp>([&](tfm::GatherLastTokensOp g) -> R {
        return d == 0 ? Same{g.getIndices(), 0} : Same{g.getInput(), d};
      })
      .Case<tfm::LinearOp>([&](tfm::LinearOp l) -> R {
        if (d == rank - 1)
          return std::nullopt;
        return Same{l.getInput(), d};
      })
      .Case<tfm::MatmulOp>([&](tfm::MatmulOp m) -> R {
        return d == rank - 1 ? Same{m.getRhs(), d} : Same{m.getLhs(), d};
      })
      .Case<tfm::TransposeOp>([&](tfm::TransposeOp t) -> R {
        return Same{t.getInput(), t.getPermutation()[d]};
      })
      .Case<tfm::ConcatOp>([&](tfm::ConcatOp c) -> R {
        if (d == static_cast<int64_t>(c.getAxis()))
          return std::nullopt;
        return Same{c.getInputs()[0], d};
      })
      .Case<tfm::SplitOp, tfm::SliceOp>([&](Operation *o) -> R {
        if (d == cast<IntegerAttr>(o->getAttr("axis")).getInt())
          return std::nullopt;
        return Same{o->getOperand(0), d};
      })
      .Case<tfm::ReshapeOp>([&](tfm::ReshapeOp re) -> R {
        // One dynamic dimension each side, the same static remainder: the
        // dynamic size is unchanged.
        auto in = re.getInput().getType();
        auto out = re.getType();
        if (in.getNumDynamicDims() != 1 || out.getNumDynamicDims() != 1 ||
            staticProduct(in) != staticProduct(out))
          return std::nullopt;
        for (int64_t i = 0; i < in.getRank(); ++i)
          if (in.isDynamicDim(i))
            return Same{re.getInput(), i};
        return std::nullopt;
      })
      .Case<tfm::QKVRopeCacheOp>([&](tfm::QKVRopeCacheOp q) -> R {
        if (r == 0)
          return d == 0 ? R(Same{q.getInput(), 0}) : std::nullopt;
        return Same{r == 1 ? q.getKeyCache() : q.getValueCache(), d};
      })
      .Case<tfm::KVCacheWriteOp>([&](tfm::KVCacheWriteOp w) -> R {
        return Same{w.getCache(), d};
      })
      .Case<tfm::AttentionOp>([&](tfm::AttentionOp a) -> R {
        return Same{a.getQuery(), d};
      })
      .Case<tfm::AllGatherOp>([&](tfm::AllGatherOp g) -> R {
        if (d == static_cast<int64_t>(g.getAxis()))
          return std::nullopt;
        return Same{g.getInput(), d};
      })
      .Case<tfm::RecvOp>([&](tfm::RecvOp rv) -> R {
        return d == 0 ? R(Same{rv.getRows(), 0}) : std::nullopt;
      })
      .Case<tfm::ArgmaxOp>([&](tfm::ArgmaxOp a) -> R {
        return Same{a.getLogits(), d};
      })
      .Default([&](Operation *o) -> R {
        // Norms, pointwise ops, softmax, rope: shaped like operand 0.
        if (o->getNumOperands() == 0 ||
            cast<ShapedType>(o->getOperand(0).getType()).getShape() !=
                cast<ShapedType>(o->getResult(r).getType()).getShape())
          return std::nullopt;
        return Same{o->getOperand(0), d};
      });
}

} // namespace

FailureOr<StepDim> StepDims::of(Value v, int64_t dim) {
  auto it = memo.find({v, dim});
  if (it != memo.end())
    return it->second;
  StepDim result;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    unsigned n = arg.getArgNumber();
    if (arg.getOwner() != &step.getFunc().getBody().front())
      return failure();
    if (n >= tfm::StepSignature::kNumInputs) {
      result = StepDim::KvBlocks;
    } else {
      switch (static_cast<tfm::StepInput>(n)) {
      case tfm::StepInput::BlockTables:
        result = dim == 0 ? StepDim::Seqs : StepDim::MaxBlocks;
        break;
      case tfm::StepInput::LogitsIndices:
        result = StepDim::LogitsRows;
        break;
      default:
        result = StepDim::Tokens;
        break;
      }
    }
  } else {
    Operation *op = v.getDefiningOp();
    unsigned r = cast<OpResult>(v).getResultNumber();
    std::optional<Same> same = sameAs(op, r, dim);
    if (!same ||
        !cast<ShapedType>(same->value.getType()).isDynamicDim(same->dim))
      return op->emitOpError()
             << "result #" << r << " dimension " << dim
             << " is not one of the step's sizes (tokens, logits rows, "
                "sequences, blocks): llmc sizes every buffer by them";
    FailureOr<StepDim> d = of(same->value, same->dim);
    if (failed(d))
      return failure();
    result = *d;
  }
  memo[{v, dim}] = result;
  return result;
}

FailureOr<SmallVector<StepDim>> StepDims::of(Value v) {
  SmallVector<StepDim> out;
  auto ty = cast<ShapedType>(v.getType());
  for (int64_t d = 0; d < ty.getRank(); ++d) {
    if (!ty.isDynamicDim(d))
      continue;
    FailureOr<StepDim> s = of(v, d);
    if (failed(s))
      return failure();
    out.push_back(*s);
  }
  return out;
}

} // namespace llmc
