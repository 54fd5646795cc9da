//===- Passes.h - tfm dialect passes ----------------------------*- C++ -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_H
#define LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Pass/Pass.h"

#include <optional>
#include <utility>

namespace llmc {

#define GEN_PASS_DECL
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"

namespace tfm {

/// Alignment of every buffer in the weight buffer and the arena.
constexpr int64_t kBufferAlignment = 64;

/// Bytes a value of `type` takes when its one dynamic dimension (the token
/// count) is at most `maxTokens`, rounded up to kBufferAlignment; nullopt
/// when it has more than one dynamic dimension.
std::optional<int64_t> boundedBytes(mlir::RankedTensorType type,
                                    int64_t maxTokens);

/// The (token rows, output channels) a linear kernel computes per pass
/// over k, for `weightRows` weight rows per output channel (2 for swiglu)
/// and a target with `registers` vector registers (see tfm-choose-schedules).
std::pair<int64_t, int64_t> chooseLinearBlocking(int64_t weightRows,
                                                 int64_t registers);

/// Token rows per cache tile of a linear with `k` inputs: as many as fit
/// half of a 256 KiB cache share, a multiple of `rowBlock`, at least one
/// block.
int64_t chooseTileRows(int64_t k, int64_t rowBlock);

} // namespace tfm
} // namespace llmc

#endif // LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_H
