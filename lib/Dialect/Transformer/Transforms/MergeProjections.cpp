//===- MergeProjections.cpp - one linear for Q/K/V and for gate/up --------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

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

    llvm::StringMap<DictionaryAttr> recipes;
    SmallVector<Attribute> recipeList;
    if (auto existing = module->getAttrOfType<ArrayAttr>("llmc.weights"))
      for (Attribute a : existing)
        if (auto d = dyn_cast<DictionaryAttr>(a)) {
          recipeList.push_back(d);
          if (auto n = d.getAs<StringAttr>("name"))
            recipes[n.getValue()] = d;
        }
    // The recipe of an unmerged weight, with its shape, as a concat part.
    auto partOf = [&](tfm::WeightOp w) {
      NamedAttrList fields;
      if (DictionaryAttr d = recipes.lookup(w.getName()))
        fields.append(d.getValue());
      else
        fields.append("sources",
                      b.getArrayAttr({b.getStringAttr(w.getName())}));
      fields.set("name", b.getStringAttr(w.getName()));
      if (!fields.get("transform"))
        fields.set("transform", b.getStringAttr("none"));
      SmallVector<Attribute> shape;
      for (int64_t d : w.getType().getShape())
        shape.push_back(b.getI64IntegerAttr(d));
      fields.set("shape", b.getArrayAttr(shape));
      return fields.getDictionary(b.getContext());
    };
    // A new weight stacking `parts` along dimension 0.
    auto stacked = [&](MutableArrayRef<tfm::WeightOp> parts) -> Value {
      std::string name;
      SmallVector<Attribute> partRecipes;
      SmallVector<int64_t> shape(parts[0].getType().getShape());
      shape[0] = 0;
      for (tfm::WeightOp w : parts) {
        name += (name.empty() ? "" : "+") + w.getName().str();
        partRecipes.push_back(partOf(w));
        shape[0] += w.getType().getDimSize(0);
      }
      recipeList.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("name", b.getStringAttr(name)),
           b.getNamedAttr("transform", b.getStringAttr("concat")),
           b.getNamedAttr("parts", b.getArrayAttr(partRecipes))}));
      auto ty =
          RankedTensorType::get(shape, parts[0].getType().getElementType());
      return tfm::WeightOp::create(b, parts[0].getLoc(), ty, name);
    };

    bool changed = false;
    module.walk([&](func::FuncOp func) {
      // Candidates by (input, has bias), in program order.
      llvm::MapVector<std::pair<Value, int>, SmallVector<tfm::LinearOp>> groups;
      func.walk([&](tfm::LinearOp l) {
        if (!l.getWeight().getDefiningOp<tfm::WeightOp>() ||
            l.getEpilogue() != tfm::Epilogue::None)
          return;
        if (l.getBias() && !l.getBias().getDefiningOp<tfm::WeightOp>())
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
        changed = true;
      }
    });
    if (changed)
      module->setAttr("llmc.weights", b.getArrayAttr(recipeList));
  }
};

} // namespace
