//===- PlanMemory.cpp - static offsets in one reused activation arena -----===//
#include "llmc/Dialect/Transformer/IR/StepSignature.h"
#include "llmc/Dialect/Transformer/IR/TransformerOps.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

#include <algorithm>

namespace llmc {
#define GEN_PASS_DEF_PLANMEMORY
#include "llmc/Dialect/Transformer/Transforms/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

std::optional<int64_t> tfm::boundedBytes(RankedTensorType type,
                                         int64_t maxTokens) {
  if (type.getNumDynamicDims() > 1)
    return std::nullopt;
  int64_t elems = type.getNumDynamicDims() ? maxTokens : 1;
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      elems *= d;
  int64_t bytes = elems * ((type.getElementTypeBitWidth() + 7) / 8);
  return schema::alignUp(bytes);
}

namespace {

struct Buffer {
  Value value;
  int64_t start, end, size, offset = -1;
};

struct PlanMemory : llmc::impl::PlanMemoryBase<PlanMemory> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<tfm::StepSignature> sig = tfm::StepSignature::find(module);
    if (failed(sig))
      return signalPassFailure();
    func::FuncOp step = sig->getFunc();
    if (maxTokens <= 0) {
      module.emitError() << "max-tokens must be positive";
      return signalPassFailure();
    }
    Block &body = step.getBody().front();
    Value logits = sig->getLogits();

    DenseMap<Operation *, int64_t> index;
    for (auto [i, op] : llvm::enumerate(body))
      index[&op] = static_cast<int64_t>(i);

    // The buffer each value lives in: reshapes are views of their input.
    auto root = [](Value v) {
      while (auto r = v.getDefiningOp<tfm::ReshapeOp>())
        v = r.getInput();
      return v;
    };
    auto needsArena = [&](Value v) {
      Operation *def = v.getDefiningOp();
      if (!def || (logits && v == logits) ||
          isa<tfm::WeightOp, tfm::KVCacheWriteOp, tfm::ReshapeOp>(def))
        return false;
      // The fused QKV op updates the caches in place: only the queries
      // take arena memory.
      if (auto qkv = dyn_cast<tfm::QKVRopeCacheOp>(def))
        return v == qkv.getQuery();
      return true;
    };

    SmallVector<Buffer> buffers;
    DenseMap<Value, size_t> bufferOf;
    int64_t naive = 0;
    for (Operation &op : body.without_terminator()) {
      for (Value r : op.getResults()) {
        if (!needsArena(r))
          continue;
        std::optional<int64_t> bytes =
            tfm::boundedBytes(cast<RankedTensorType>(r.getType()), maxTokens);
        if (!bytes) {
          op.emitOpError() << "result " << r.getType()
                           << " has more than one dynamic dimension; the "
                              "arena is sized by the token count alone";
          return signalPassFailure();
        }
        bufferOf[r] = buffers.size();
        buffers.push_back({r, index[&op], index[&op], *bytes});
        naive += *bytes;
      }
    }
    // A buffer lives until the last use of it or of any view of it.
    for (Operation &op : body)
      for (Value operand : op.getOperands()) {
        auto it = bufferOf.find(root(operand));
        if (it != bufferOf.end())
          buffers[it->second].end =
              std::max(buffers[it->second].end, index[&op]);
      }

    // First-fit linear scan in program order. A buffer that an op reads is
    // live at that op's index, so results never overlap their operands.
    SmallVector<Buffer *> active;
    int64_t arena = 0;
    for (Buffer &buf : buffers) {
      llvm::erase_if(active, [&](Buffer *a) { return a->end < buf.start; });
      llvm::sort(active,
                 [](Buffer *x, Buffer *y) { return x->offset < y->offset; });
      int64_t offset = 0;
      for (Buffer *a : active) {
        if (a->offset - offset >= buf.size)
          break;
        offset = std::max(offset, a->offset + a->size);
      }
      buf.offset = offset;
      arena = std::max(arena, offset + buf.size);
      active.push_back(&buf);
    }

    OpBuilder b(module.getContext());
    tfm::TransformerDialect &tfmDialect = tfm::dialect(module.getContext());
    for (Operation &op : body.without_terminator()) {
      if (op.getNumResults() == 0)
        continue;
      SmallVector<int64_t> offsets;
      bool any = false;
      for (Value r : op.getResults()) {
        auto it = bufferOf.find(r);
        offsets.push_back(it == bufferOf.end() ? -1
                                               : buffers[it->second].offset);
        any |= it != bufferOf.end();
      }
      if (any)
        tfmDialect.getArenaOffsetsAttrHelper().setAttr(
            &op, b.getDenseI64ArrayAttr(offsets));
    }
    tfmDialect.getArenaAttrHelper().setAttr(
        module,
        tfm::ArenaAttr::get(module.getContext(), arena, naive, maxTokens));
  }
};

} // namespace
