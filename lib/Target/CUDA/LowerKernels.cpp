//===- LowerKernels.cpp - every kernel to loops with the CUDA TargetInfo --===//
#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"
#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "llmc/Target/CUDA/Passes.h"
#include "llmc/Target/CUDA/TargetInfo.h"

namespace llmc {
#define GEN_PASS_DEF_CUDALOWERKERNELS
#include "llmc/Target/CUDA/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct CUDALowerKernels : llmc::impl::CUDALowerKernelsBase<CUDALowerKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto helper = tfm::dialect(&getContext()).getKernelConfigAttrHelper();
    // The block size each kernel's configuration chose, for its launches.
    llvm::StringMap<int64_t> threads;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (!plan::isKernel(func))
        continue;
      tfm::CUDAKernelConfigAttr config;
      func.walk([&](Operation *op) {
        if (auto c =
                dyn_cast_or_null<tfm::CUDAKernelConfigAttr>(helper.getAttr(op)))
          config = c;
      });
      if (!config) {
        func.emitOpError() << "has no #tfm.cuda_kernel configuration (run "
                              "llmc-cuda-configure-kernels first)";
        return signalPassFailure();
      }
      threads[func.getSymName()] = config.getThreads();
    }
    CUDATargetInfo target;
    if (failed(lowerKernelsToLoops(module, target)))
      return signalPassFailure();
    Builder b(&getContext());
    module.walk([&](plan::LaunchOp launch) {
      auto it = threads.find(launch.getKernel().getLeafReference());
      if (it != threads.end())
        launch.setThreadsAttr(b.getI64IntegerAttr(it->second));
    });
  }
};

} // namespace
