//===- KernelConfig.cpp - how the CPU runs each kernel op -----------------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Utils/ParallelExtent.h"
#include "llmc/Target/CPU/Passes.h"
#include "llmc/Target/CPU/TargetInfo.h"

namespace llmc {
#define GEN_PASS_DEF_CPUCONFIGUREKERNELS
#include "llmc/Target/CPU/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct CPUConfigureKernels
    : llmc::impl::CPUConfigureKernelsBase<CPUConfigureKernels> {
  using Base::Base;

  void runOnOperation() override {
    CPUFeatures features = CPUFeatures::get(cpu);
    MLIRContext *ctx = &getContext();
    auto helper = tfm::dialect(ctx).getKernelConfigAttrHelper();
    getOperation().walk([&](Operation *op) {
      SmallVector<tfm::ParallelDim> dims = tfm::getSupportedParallelDims(op);
      // A configuration already there (written by hand) is kept.
      if (dims.empty() || helper.isAttrPresent(op))
        return;
      int64_t rowBlock = 1, channelBlock = 1, tileRows = 0;
      if (auto l = dyn_cast<tfm::LinearOp>(op)) {
        int64_t c = l.getEpilogue() == tfm::Epilogue::SwiGLU ? 2 : 1;
        bool narrow =
            l.getWeight().getType().getElementType().getIntOrFloatBitWidth() <
            32;
        std::tie(rowBlock, channelBlock) =
            chooseLinearBlocking(c, features.vectorRegisters, narrow ? 3 : 1);
        tileRows =
            chooseTileRows(l.getWeight().getType().getDimSize(1), rowBlock);
      }
      helper.setAttr(op, tfm::CPUKernelConfigAttr::get(
                             ctx, dims.front(), features.vectorWidth, rowBlock,
                             channelBlock, tileRows));
    });
  }
};

} // namespace
