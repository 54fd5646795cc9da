//===- QuantizeWeights.cpp - int8 rows for the projection weights ---------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"
#include "schema/Artifact.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace llmc {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

bool llmc::tfm::isProjectionWeight(OpOperand &use) {
  Operation *op = use.getOwner();
  if (auto l = dyn_cast<tfm::LinearOp>(op))
    return use.get() == l.getWeight() && use.get() != l.getInput();
  if (auto q = dyn_cast<tfm::QKVRopeCacheOp>(op))
    return use.get() == q.getWeight() && use.get() != q.getInput();
  return false;
}

namespace {

struct QuantizeWeights : llmc::impl::QuantizeWeightsBase<QuantizeWeights> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (scheme == "none")
      return;
    if (scheme != "int8") {
      module.emitError() << "tfm-quantize-weights: scheme '" << scheme
                         << "' is not one of none, int8";
      return signalPassFailure();
    }
    MLIRContext *ctx = module.getContext();
    llvm::MapVector<StringRef, SmallVector<tfm::WeightOp>> byName;
    module.walk([&](tfm::WeightOp w) { byName[w.getName()].push_back(w); });
    for (auto &[name, ops] : byName) {
      bool projection = llvm::all_of(ops, [&](tfm::WeightOp w) {
        auto type = cast<RankedTensorType>(w.getType());
        return type.getElementType().isF32() && type.getRank() == 2 &&
               !w->use_empty() &&
               llvm::all_of(w->getUses(), [](OpOperand &use) {
                 // Projections, and token embedding tables (a tied LM
                 // head is both): a token's row is read with its scale.
                 // Learned positions (GPT-2's wpe) stay as they are.
                 if (auto e = dyn_cast<tfm::EmbeddingOp>(use.getOwner())) {
                   auto ids = dyn_cast<BlockArgument>(e.getIds());
                   bool positions =
                       ids &&
                       ids.getArgNumber() ==
                           static_cast<unsigned>(schema::StepInput::Positions);
                   return use.get() == e.getTable() && !positions;
                 }
                 return tfm::isProjectionWeight(use);
               });
      });
      if (!projection)
        continue;
      for (tfm::WeightOp w : ops) {
        tfm::WeightRecipeAttr r = w.getRecipe();
        ArrayRef<int64_t> shape = r.getType().getShape();
        auto type = RankedTensorType::get({shape[0], shape[1] + 4},
                                          IntegerType::get(ctx, 8));
        auto recipe = tfm::WeightRecipeAttr::get(
            ctx, r.getName(), type, r.getTransform(), r.getSources(),
            r.getParts(), r.getShard());
        w.setRecipeAttr(recipe);
        w.getResult().setType(type);
      }
    }
  }
};

} // namespace
