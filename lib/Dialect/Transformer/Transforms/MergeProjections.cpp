//===- MergeProjections.cpp - one linear for Q/K/V and for gate/up --------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace llmc {
#define GEN_PASS_DEF_MERGEPROJECTIONS
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct MergeProjections : llmc::impl::MergeProjectionsBase<MergeProjections> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(module.getContext());

    // A new weight stacking `parts` along dimension 0: its recipe has the
    // runtime concatenate the parts' own recipes.
    auto stacked = [&](MutableArrayRef<tfm::WeightOp> parts) -> Value {
      std::string name;
      SmallVector<Attribute> partRecipes;
      SmallVector<int64_t> shape(parts[0].getType().getShape());
      shape[0] = 0;
      for (tfm::WeightOp w : parts) {
        name += (name.empty() ? "" : "+") + w.getName().str();
        partRecipes.push_back(w.getRecipe());
        shape[0] += w.getType().getDimSize(0);
      }
      auto ty =
          RankedTensorType::get(shape, parts[0].getType().getElementType());
      auto recipe = tfm::WeightRecipeAttr::get(
          b.getContext(), name, ty, tfm::WeightTransform::Concat,
          /*sources=*/{}, partRecipes, /*shard=*/nullptr);
      return tfm::WeightOp::create(b, parts[0].getLoc(), recipe);
    };

    module.walk([&](func::FuncOp func) {
      // Candidates by (input, has bias), in program order.
      llvm::MapVector<std::pair<Value, int>, SmallVector<tfm::LinearOp>> groups;
      // A weight can be a part of a concat only if it is a checkpoint
      // tensor (as is, transposed or sharded), not a concat itself.
      auto stackable = [](Value v) {
        auto w = v.getDefiningOp<tfm::WeightOp>();
        return w &&
               w.getRecipe().getTransform() != tfm::WeightTransform::Concat;
      };
      func.walk([&](tfm::LinearOp l) {
        if (!stackable(l.getWeight()) || l.getEpilogue() != tfm::Epilogue::None)
          return;
        if (l.getBias() && !stackable(l.getBias()))
          return;
        groups[{l.getInput(), l.getBias() ? 1 : 0}].push_back(l);
      });
      for (auto &[key, linears] : groups) {
        if (linears.size() < 2)
          continue;
        tfm::LinearOp first = linears.front();
        b.setInsertionPoint(first);
        SmallVector<tfm::WeightOp> weights, biases;
        for (tfm::LinearOp l : linears) {
          weights.push_back(l.getWeight().getDefiningOp<tfm::WeightOp>());
          if (key.second)
            biases.push_back(l.getBias().getDefiningOp<tfm::WeightOp>());
        }
        Value weight = stacked(weights);
        Value bias = key.second ? stacked(biases) : Value();
        auto inTy = cast<RankedTensorType>(key.first.getType());
        SmallVector<int64_t> shape(inTy.getShape());
        shape.back() = cast<RankedTensorType>(weight.getType()).getDimSize(0);
        auto merged = tfm::LinearOp::create(
            b, first.getLoc(),
            RankedTensorType::get(shape, inTy.getElementType()), key.first,
            weight, bias, /*residual=*/Value(), tfm::Epilogue::None);
        SmallVector<Type> partTypes;
        for (tfm::LinearOp l : linears)
          partTypes.push_back(l.getType());
        auto split =
            tfm::SplitOp::create(b, first.getLoc(), partTypes, merged,
                                 b.getI64IntegerAttr(inTy.getRank() - 1));
        for (auto [i, l] : llvm::enumerate(linears)) {
          l.replaceAllUsesWith(split.getResult(i));
          l.erase();
        }
        for (tfm::WeightOp w : llvm::concat<tfm::WeightOp>(weights, biases))
          if (w->use_empty())
            w.erase();
      }
    });
  }
};

} // namespace
