//===- ApproximateMath.cpp - polynomial exp, tanh, erf --------------------===//
#include "llmc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llmc {
#define GEN_PASS_DEF_CPUAPPROXIMATEMATH
#include "llmc/Target/CPU/Passes.h.inc"
} // namespace llmc

using namespace mlir;

namespace {

struct CPUApproximateMath
    : llmc::impl::CPUApproximateMathBase<CPUApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == "math.exp" || name == "math.tanh" || name == "math.erf";
    });
    // bf16 conversions as integer shifts with round-to-nearest-even:
    // LLVM would call __truncsfbf2, which Debian 12's libgcc lacks.
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
