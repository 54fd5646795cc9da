//===- StepSignature.h - the step function's named operands -*- C++ -*-===//
//
// The one place that knows the step function's signature: the batch inputs
// (schema::StepInput, in that order), then the K and V caches of every
// layer; results: the logits, then every cache updated. A pipeline stage
// other than the last has no logits result (it sends its hidden states on
// with tfm.send) and holds only its layers' caches. The importer builds
// it, passes find the step through it (the function marked `tfm.step`),
// and the dialect verifies it.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_STEPSIGNATURE_H
#define LLMC_DIALECT_TRANSFORMER_IR_STEPSIGNATURE_H

#include "schema/Artifact.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace llmc::tfm {

using schema::StepInput;

class StepSignature {
public:
  static constexpr unsigned kNumInputs = schema::kNumStepInputs;

  /// The type of a step with `vocab` logits and the given caches (K and V
  /// per layer).
  static mlir::FunctionType
  getType(mlir::MLIRContext *ctx, int64_t vocab,
          llvm::ArrayRef<mlir::RankedTensorType> caches);
  /// The type each batch input must have.
  static mlir::RankedTensorType getInputType(mlir::MLIRContext *ctx,
                                             StepInput input);
  /// Checks `func` against the signature; errors name the operand.
  static mlir::LogicalResult verify(mlir::func::FuncOp func);
  /// Marks `func` as its module's step.
  static void mark(mlir::func::FuncOp func);
  /// The module's step: the one function marked `tfm.step`. Reports an
  /// error on the module when there is none or more than one.
  static mlir::FailureOr<StepSignature> find(mlir::ModuleOp module);

  explicit StepSignature(mlir::func::FuncOp func) : func(func) {}

  mlir::func::FuncOp getFunc() const { return func; }
  mlir::BlockArgument getInput(StepInput input) const {
    return func.getArgument(static_cast<unsigned>(input));
  }
  unsigned getNumCaches() const { return func.getNumArguments() - kNumInputs; }
  mlir::BlockArgument getCache(unsigned i) const {
    return func.getArgument(kNumInputs + i);
  }
  mlir::RankedTensorType getCacheType(unsigned i) const {
    return mlir::cast<mlir::RankedTensorType>(getCache(i).getType());
  }
  /// Whether the step returns logits (every step but a pipeline stage's
  /// before the last).
  bool hasLogits() const {
    return func.getFunctionType().getNumResults() == getNumCaches() + 1;
  }
  /// The logits' type; null without logits.
  mlir::RankedTensorType getLogitsType() const {
    if (!hasLogits())
      return {};
    return mlir::cast<mlir::RankedTensorType>(
        func.getFunctionType().getResult(0));
  }
  mlir::Operation *getReturn() const {
    return func.getBody().front().getTerminator();
  }
  /// The returned logits (null without logits) and the returned update of
  /// cache `i`.
  mlir::Value getLogits() const {
    return hasLogits() ? getReturn()->getOperand(0) : mlir::Value();
  }
  mlir::Value getCacheResult(unsigned i) const {
    return getReturn()->getOperand((hasLogits() ? 1 : 0) + i);
  }

private:
  mutable mlir::func::FuncOp func;
};

/// "token_ids", "positions", ...: the input's name in messages and docs.
llvm::StringRef stepInputName(StepInput input);

} // namespace llmc::tfm

#endif // LLMC_DIALECT_TRANSFORMER_IR_STEPSIGNATURE_H
