//===- TransformerToLoops.h - kernel ops -> loops, per family -*- C++ -*-===//
//
// One pattern set per op family, each lowering the single tfm op of a
// kernel function (bound to its memref arguments by plan.load/plan.store,
// see convert-tfm-to-plan) to scf loops over those memrefs.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_CONVERSION_TRANSFORMERTOLOOPS_TRANSFORMERTOLOOPS_H
#define LLMC_CONVERSION_TRANSFORMERTOLOOPS_TRANSFORMERTOLOOPS_H

#include "llmc/Conversion/TransformerToLoops/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

namespace llmc {

/// RMSNorm, LayerNorm, their fused residual-add forms, softmax.
void populateNormLoweringPatterns(mlir::RewritePatternSet &patterns,
                                  const TargetInfo &target);
/// add, mul, SiLU, GELU.
void populatePointwiseLoweringPatterns(mlir::RewritePatternSet &patterns,
                                       const TargetInfo &target);
/// linear (register-blocked, with epilogues), matmul.
void populateLinearLoweringPatterns(mlir::RewritePatternSet &patterns,
                                    const TargetInfo &target);
/// paged attention.
void populateAttentionLoweringPatterns(mlir::RewritePatternSet &patterns,
                                       const TargetInfo &target);
/// rope, kv_cache_write, qkv_rope_cache.
void populateRopeCacheLoweringPatterns(mlir::RewritePatternSet &patterns,
                                       const TargetInfo &target);
/// transpose, concat, split, slice.
void populateShapeLoweringPatterns(mlir::RewritePatternSet &patterns,
                                   const TargetInfo &target);
/// embedding, gather_last_tokens, argmax.
void populateSelectionLoweringPatterns(mlir::RewritePatternSet &patterns,
                                       const TargetInfo &target);

/// Every family above.
void populateKernelLoweringPatterns(mlir::RewritePatternSet &patterns,
                                    const TargetInfo &target);

/// Lowers every kernel function of `module` (marked plan.kernel) with the
/// patterns of every family for `target`. Fails, with an error on the op,
/// when a kernel op has no lowering or its lowering refuses it.
mlir::LogicalResult lowerKernelsToLoops(mlir::ModuleOp module,
                                        const TargetInfo &target);

} // namespace llmc

#endif // LLMC_CONVERSION_TRANSFORMERTOLOOPS_TRANSFORMERTOLOOPS_H
