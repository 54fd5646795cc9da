//===- StepSignature.cpp - the decoder step function's named operands -----===//
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"

using namespace mlir;

namespace llmc::tfm {

static std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream(s) << t;
  return s;
}

StringRef stepInputName(StepInput input) {
  std::string_view n = schema::nameOf(input);
  return StringRef(n.data(), n.size());
}

RankedTensorType StepSignature::getInputType(MLIRContext *ctx,
                                             StepInput input) {
  Type i32 = IntegerType::get(ctx, 32);
  if (input == StepInput::BlockTables)
    return RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic},
                                 i32);
  return RankedTensorType::get({ShapedType::kDynamic}, i32);
}

FunctionType StepSignature::getType(MLIRContext *ctx, int64_t vocab,
                                    ArrayRef<RankedTensorType> caches) {
  SmallVector<Type> inputs, results;
  for (unsigned i = 0; i < kNumInputs; ++i)
    inputs.push_back(getInputType(ctx, static_cast<StepInput>(i)));
  results.push_back(RankedTensorType::get({ShapedType::kDynamic, vocab},
                                          Float32Type::get(ctx)));
  for (RankedTensorType c : caches) {
    inputs.push_back(c);
    results.push_back(c);
  }
  return FunctionType::get(ctx, inputs, results);
}

LogicalResult StepSignature::verify(func::FuncOp func) {
  auto fail = [&](const Twine &msg) {
    return func.emitOpError() << "is not a valid step function: " << msg;
  };
  FunctionType fty = func.getFunctionType();
  unsigned n = fty.getNumInputs();
  if (n < kNumInputs + 2 || (n - kNumInputs) % 2 != 0)
    return fail("expected the 6 batch inputs (token_ids, positions, seq_ids, "
                "slot_mapping, block_tables, logits_indices) followed by a K "
                "and a V cache per layer");
  for (unsigned i = 0; i < kNumInputs; ++i) {
    auto input = static_cast<StepInput>(i);
    RankedTensorType want = getInputType(func.getContext(), input);
    if (fty.getInput(i) != want)
      return fail("operand #" + Twine(i) + " (" + stepInputName(input) +
                  ") must be " + str(want) + ", got " + str(fty.getInput(i)));
  }
  unsigned numCaches = n - kNumInputs;
  bool logitsResult = fty.getNumResults() == numCaches + 1;
  if (!logitsResult && fty.getNumResults() != numCaches)
    return fail("expected the logits and one result per cache");
  if (!logitsResult) {
    // A pipeline stage that hands its hidden states on.
    bool sends = false;
    if (!func.isExternal())
      func.walk([&](Operation *op) {
        sends |= op->getName().getStringRef() == "tfm.send";
      });
    if (!sends)
      return fail("returns no logits, so it must be a pipeline stage that "
                  "sends its output on (tfm.send)");
  } else {
    auto logits = dyn_cast<RankedTensorType>(fty.getResult(0));
    if (!logits || logits.getRank() != 2 || !logits.isDynamicDim(0) ||
        logits.isDynamicDim(1) || !logits.getElementType().isF32())
      return fail("result #0 must be f32 logits tensor<?xVOCABxf32>");
  }
  unsigned firstCacheResult = logitsResult ? 1 : 0;
  // Sizes from a hand-written .mlir are bounded like a config's: every
  // product the passes form (bytes, offsets, loop bounds) fits in 64 bits.
  constexpr int64_t kMaxDim = int64_t(1) << 32, kMaxElements = int64_t(1) << 48;
  auto checkType = [&](Type t, Operation *at) -> LogicalResult {
    auto ranked = dyn_cast<RankedTensorType>(t);
    if (!ranked)
      return success();
    int64_t elems = 1;
    for (int64_t d : ranked.getShape()) {
      if (ShapedType::isDynamic(d))
        continue;
      if (d > kMaxDim || (d > 0 && elems > kMaxElements / d))
        return (at ? at->emitOpError() : func.emitOpError())
               << "has a tensor of type " << t
               << " whose size is past llmc's limits (dimensions up to 2^32, "
                  "2^48 elements)";
      elems *= d;
    }
    return success();
  };
  for (Type t : fty.getInputs())
    if (failed(checkType(t, nullptr)))
      return failure();
  if (!func.isExternal()) {
    WalkResult walk = func.walk([&](Operation *op) {
      for (Type t : op->getResultTypes())
        if (failed(checkType(t, op)))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }
  int64_t blockSize = 0;
  for (unsigned i = kNumInputs; i < n; ++i) {
    auto ty = dyn_cast<RankedTensorType>(fty.getInput(i));
    if (!ty || ty.getRank() != 4 ||
        !(ty.getElementType().isF32() || ty.getElementType().isF16() ||
          ty.getElementType().isBF16()) ||
        !ty.isDynamicDim(0) || ty.getNumDynamicDims() != 1)
      return fail("operand #" + Twine(i) +
                  " must be a KV cache tensor<?xBLOCKxKV_HEADSxHEAD_DIM"
                  "xf32> (or f16, bf16)");
    if (blockSize && ty.getDimSize(1) != blockSize)
      return fail("operand #" + Twine(i) + " has blocks of " +
                  Twine(ty.getDimSize(1)) + " tokens, the first cache " +
                  Twine(blockSize) + ": every cache shares one block size");
    blockSize = ty.getDimSize(1);
    if (fty.getResult(i - kNumInputs + firstCacheResult) != ty)
      return fail("result #" + Twine(i - kNumInputs + firstCacheResult) +
                  " must have the type of its cache operand");
  }
  return success();
}

void StepSignature::mark(func::FuncOp func) {
  dialect(func.getContext())
      .getStepAttrHelper()
      .setAttr(func, UnitAttr::get(func.getContext()));
}

FailureOr<StepSignature> StepSignature::find(ModuleOp module) {
  auto helper = dialect(module.getContext()).getStepAttrHelper();
  func::FuncOp found;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (!helper.isAttrPresent(func))
      continue;
    if (found) {
      func.emitOpError() << "is a second function marked tfm.step; a module "
                            "holds one step";
      return failure();
    }
    found = func;
  }
  if (!found) {
    module.emitError() << "no step function (a func.func marked tfm.step)";
    return failure();
  }
  return StepSignature(found);
}

} // namespace llmc::tfm
