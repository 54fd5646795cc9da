//===- Passes.h - tfm dialect passes ----------------------------*- C++ -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_H
#define LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <optional>

namespace llmc {

#define GEN_PASS_DECL
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"

/// The fusion passes every target runs first, in order: tfm-hoist-gather,
/// tfm-merge-projections, tfm-fuse-add-norm, tfm-fuse-qkv-rope-cache,
/// tfm-fuse-epilogues.
void addFusionPasses(mlir::OpPassManager &pm);

/// The storage passes every target runs after fusion, in order:
/// tfm-quantize-weights, tfm-weight-dtype (which leaves quantized weights
/// alone), tfm-kv-dtype.
void addPrecisionPasses(mlir::OpPassManager &pm, llvm::StringRef quantize,
                        llvm::StringRef weightDType, llvm::StringRef kvDType);

namespace tfm {

/// Bytes a value of `type` takes when its one dynamic dimension (the token
/// count) is at most `maxTokens`, rounded up to the buffer alignment;
/// nullopt when it has more than one dynamic dimension.
std::optional<int64_t> boundedBytes(mlir::RankedTensorType type,
                                    int64_t maxTokens);

/// Whether `use` reads a weight as a projection matrix: the weight operand
/// of tfm.linear or tfm.qkv_rope_cache (what tfm-quantize-weights and
/// tfm-weight-dtype change).
bool isProjectionWeight(mlir::OpOperand &use);

/// The float type a storage-dtype option names (f32, bf16, f16), or a null
/// Type for any other name.
mlir::Type storageFloatType(mlir::MLIRContext *ctx, llvm::StringRef name);

} // namespace tfm
} // namespace llmc

#endif // LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_H
