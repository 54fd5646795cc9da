//===- WeightDType.cpp - matrix weights stored in bf16 / f16 --------------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace llmc {
#define GEN_PASS_DEF_WEIGHTDTYPE
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

Type llmc::tfm::storageFloatType(MLIRContext *ctx, StringRef name) {
  if (name == "f32")
    return Float32Type::get(ctx);
  if (name == "bf16")
    return BFloat16Type::get(ctx);
  if (name == "f16")
    return Float16Type::get(ctx);
  return Type();
}

namespace {

/// Whether `use` reads its weight as a matrix whose elements the kernel
/// widens as it loads them: a projection's weight or an embedding table.
bool readsAsMatrix(OpOperand &use) {
  if (auto e = dyn_cast<tfm::EmbeddingOp>(use.getOwner()))
    return use.get() == e.getTable();
  return tfm::isProjectionWeight(use);
}

/// `recipe` with `elem` as its (and its parts') element type.
tfm::WeightRecipeAttr retype(tfm::WeightRecipeAttr recipe, Type elem) {
  SmallVector<Attribute> parts;
  for (Attribute a : recipe.getParts())
    parts.push_back(retype(cast<tfm::WeightRecipeAttr>(a), elem));
  return tfm::WeightRecipeAttr::get(
      recipe.getContext(), recipe.getName(),
      RankedTensorType::get(recipe.getType().getShape(), elem),
      recipe.getTransform(), recipe.getSources(), parts, recipe.getShard());
}

struct WeightDType : llmc::impl::WeightDTypeBase<WeightDType> {
  using WeightDTypeBase::WeightDTypeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    std::string want = dtype;
    if (want == "auto") {
      tfm::ModelAttr model =
          tfm::dialect(ctx).getModelAttrHelper().getAttr(module);
      StringRef declared = model ? model.getDtype() : StringRef();
      want = declared == "bfloat16"  ? "bf16"
             : declared == "float16" ? "f16"
                                     : "f32";
    }
    Type elem = tfm::storageFloatType(ctx, want);
    if (!elem) {
      module.emitError() << "tfm-weight-dtype: dtype '" << dtype
                         << "' is not one of f32, bf16, f16, auto";
      return signalPassFailure();
    }
    // Ops that name one packed weight change together or not at all.
    llvm::MapVector<StringRef, SmallVector<tfm::WeightOp>> byName;
    module.walk([&](tfm::WeightOp w) { byName[w.getName()].push_back(w); });
    for (auto &[name, ops] : byName) {
      bool matrix = llvm::all_of(ops, [&](tfm::WeightOp w) {
        auto type = cast<RankedTensorType>(w.getType());
        return type.getElementType().isF32() &&
               llvm::all_of(w->getUses(), readsAsMatrix);
      });
      if (!matrix || elem.isF32())
        continue;
      for (tfm::WeightOp w : ops) {
        tfm::WeightRecipeAttr recipe = retype(w.getRecipe(), elem);
        w.setRecipeAttr(recipe);
        w.getResult().setType(recipe.getType());
      }
    }
  }
};

} // namespace
