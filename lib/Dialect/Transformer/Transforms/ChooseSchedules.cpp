//===- ChooseSchedules.cpp - register blocking of linear kernels ----------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_CHOOSESCHEDULES
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

std::pair<int64_t, int64_t> tfm::chooseLinearBlocking(int64_t weightRows,
                                                      int64_t registers) {
  std::pair<int64_t, int64_t> best{1, 1};
  double bestRatio = 0;
  for (int64_t r : {1, 2, 4, 8})
    for (int64_t q : {1, 2, 4}) {
      int64_t c = weightRows;
      if (r * q * c + q * c + 1 > registers)
        continue;
      double ratio =
          static_cast<double>(r * q * c) / static_cast<double>(q * c + r);
      if (ratio > bestRatio + 1e-9 ||
          (ratio > bestRatio - 1e-9 && r > best.first)) {
        bestRatio = ratio;
        best = {r, q};
      }
    }
  return best;
}

int64_t tfm::chooseTileRows(int64_t k, int64_t rowBlock) {
  constexpr int64_t kTileBytes = 128 * 1024;
  int64_t rows = kTileBytes / (4 * std::max<int64_t>(k, 1));
  return std::max(rowBlock, rows / rowBlock * rowBlock);
}

namespace {

struct ChooseSchedules : llmc::impl::ChooseSchedulesBase<ChooseSchedules> {
  using Base::Base;
  void runOnOperation() override {
    if (vectorRegisters < 3) {
      getOperation().emitError() << "vector-registers must be at least 3";
      return signalPassFailure();
    }
    OpBuilder b(&getContext());
    getOperation().walk([&](tfm::LinearOp l) {
      int64_t c = l.getEpilogue() == tfm::Epilogue::SwiGLU ? 2 : 1;
      auto [r, q] = tfm::chooseLinearBlocking(c, vectorRegisters);
      int64_t tile =
          tfm::chooseTileRows(l.getWeight().getType().getDimSize(1), r);
      l->setAttr("llmc.schedule",
                 b.getDictionaryAttr(
                     {b.getNamedAttr("row_block", b.getI64IntegerAttr(r)),
                      b.getNamedAttr("channel_block", b.getI64IntegerAttr(q)),
                      b.getNamedAttr("tile_rows", b.getI64IntegerAttr(tile))}));
    });
  }
};

} // namespace
