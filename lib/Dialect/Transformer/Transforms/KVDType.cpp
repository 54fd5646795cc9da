//===- KVDType.cpp - KV caches stored in f16 / bf16 -----------------------===//
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_KVDTYPE
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct KVDType : llmc::impl::KVDTypeBase<KVDType> {
  using KVDTypeBase::KVDTypeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    Type elem = tfm::storageFloatType(ctx, dtype);
    if (elem && elem.isF32())
      return;
    if (!elem) {
      module.emitError() << "tfm-kv-dtype: dtype '" << dtype
                         << "' is not one of f32, f16, bf16";
      return signalPassFailure();
    }
    FailureOr<tfm::StepSignature> step = tfm::StepSignature::find(module);
    if (failed(step))
      return signalPassFailure();
    func::FuncOp func = step->getFunc();
    auto narrow = [&](Type t) {
      auto r = cast<RankedTensorType>(t);
      return RankedTensorType::get(r.getShape(), elem);
    };
    // A cache flows from its argument through the ops that update it (their
    // cache results) to the return; attention only reads it.
    SmallVector<Value> work;
    Block &body = func.getBody().front();
    for (unsigned i = tfm::StepSignature::kNumInputs;
         i < body.getNumArguments(); ++i)
      work.push_back(body.getArgument(i));
    DenseSet<Value> seen;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      v.setType(narrow(v.getType()));
      for (OpOperand &use : v.getUses()) {
        Operation *op = use.getOwner();
        if (auto w = dyn_cast<tfm::KVCacheWriteOp>(op)) {
          work.push_back(w.getResult());
        } else if (auto q = dyn_cast<tfm::QKVRopeCacheOp>(op)) {
          work.push_back(use.get() == q.getKeyCache() ? q.getKeyCacheOut()
                                                      : q.getValueCacheOut());
        }
      }
    }
    SmallVector<Type> results;
    for (Value v : body.getTerminator()->getOperands())
      results.push_back(v.getType());
    func.setType(FunctionType::get(ctx, body.getArgumentTypes(), results));
  }
};

} // namespace
