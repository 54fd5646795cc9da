//===- LowerKernels.cpp - every kernel to loops with the CPU's TargetInfo -===//
#include "llmc/Conversion/TransformerToLoops/TransformerToLoops.h"
#include "llmc/Target/CPU/Passes.h"
#include "llmc/Target/CPU/TargetInfo.h"

namespace llmc {
#define GEN_PASS_DEF_CPULOWERKERNELS
#include "llmc/Target/CPU/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct CPULowerKernels : llmc::impl::CPULowerKernelsBase<CPULowerKernels> {
  using Base::Base;

  void runOnOperation() override {
    CPUTargetInfo target(CPUFeatures::get(cpu));
    if (failed(lowerKernelsToLoops(getOperation(), target)))
      signalPassFailure();
  }
};

} // namespace
