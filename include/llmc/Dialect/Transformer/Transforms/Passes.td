//===- Passes.td - tfm dialect passes ----------------------*- tablegen -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_TD
#define LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def PlanMemory : Pass<"tfm-plan-memory", "mlir::ModuleOp"> {
  let summary = "Give every intermediate of the step a static offset in one "
                "reused activation arena";
  let description = [{
    Liveness over the step function (one block, program order) decides
    which intermediates are alive together; a first-fit linear scan then
    places each in the lowest free range of one arena, so memory is reused
    as soon as a value dies. Sizes are bounds for `max-tokens` rows (the
    token dimension is the only dynamic one).

    Values that need no arena memory are skipped: `tfm.weight` (the weight
    buffer), `tfm.kv_cache_write` (the cache, in place), `tfm.reshape` (a
    view of its input, which therefore stays alive as long as the view), and
    the returned logits (the caller's output buffer). An op's result never
    shares memory with its operands.

    Results: `llmc.offsets` on each op (one byte offset per result, -1
    where no arena memory is used), and on the module `llmc.arena_bytes`
    (the arena size) and `llmc.naive_arena_bytes` (the sum of all
    intermediates, what no reuse would take). convert-tfm-to-loops uses the
    offsets.
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"256",
           "the most tokens one step may hold">
  ];
}

#endif // LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_TD
