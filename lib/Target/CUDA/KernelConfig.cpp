//===- KernelConfig.cpp - how the GPU runs each kernel op -----------------===//
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Utils/ParallelExtent.h"
#include "llmc/Target/CUDA/Passes.h"

namespace llmc {
#define GEN_PASS_DEF_CUDACONFIGUREKERNELS
#include "llmc/Target/CUDA/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct CUDAConfigureKernels
    : llmc::impl::CUDAConfigureKernelsBase<CUDAConfigureKernels> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (threads < 32 || threads > 1024 || threads % 32 != 0) {
      getOperation().emitError() << "llmc-cuda-configure-kernels: threads ("
                                 << static_cast<int64_t>(threads)
                                 << ") must be a multiple of 32 in [32, 1024]";
      return signalPassFailure();
    }
    auto helper = tfm::dialect(ctx).getKernelConfigAttrHelper();
    getOperation().walk([&](Operation *op) {
      SmallVector<tfm::ParallelDim> dims = tfm::getSupportedParallelDims(op);
      if (dims.empty() || helper.isAttrPresent(op))
        return;
      helper.setAttr(op,
                     tfm::CUDAKernelConfigAttr::get(
                         ctx, dims.front(), tfm::CUDAStrategy::ThreadPerItem,
                         static_cast<int64_t>(threads),
                         /*vectorWidth=*/1, /*rowBlock=*/1,
                         /*channelBlock=*/1, /*tileRows=*/0));
    });
  }
};

} // namespace
