//===- Passes.td - llmc conversion passes ------------------*- tablegen -*-===//
#ifndef LLMC_CONVERSION_PASSES_TD
#define LLMC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTransformerToPlan : Pass<"convert-tfm-to-plan", "mlir::ModuleOp"> {
  let summary = "Outline each kernel op of the step into a kernel function "
                "and the step into a launch plan";
  let description = [{
    Takes the step function (marked `tfm.step`), after
    `tfm-plan-memory` and a target's kernel configuration, apart into:

    - **kernels**: every op of the step that is not a view (`tfm.weight`,
      `tfm.reshape`) becomes a `func.func` marked `plan.kernel` whose
      arguments are memrefs: its distinct operands, then its results
      (an in-place KV cache update stores into the cache it loaded). The
      body binds them with `plan.load` / `plan.store` around a clone of the
      op. Kernels that print the same (same op, shapes, attributes and
      kernel configuration) are emitted once and shared by every layer;
      they are named after the op (`linear_0`, `linear_1`, ...) in the
      order of first use.
    - **the plan**: one `plan.program` holding a `plan.launch` per op in
      program order, each with its buffers and its work items (from the
      kernel configuration's parallel dimension), located at the op's
      location (the importer's `layer.N`).

    Buffers: step inputs and KV caches by name and number, weights packed
    at 64-byte aligned offsets in order of first use (`#plan.weight`: the
    offset and the recipe; two weights of one name must have one recipe),
    intermediates at their `tfm.arena_offsets`, reshapes as views of what
    they reshape, and the logits in the output. Every dynamic dimension is
    traced back to a step dimension (`tokens`, `logits_rows`, `seqs`,
    `max_blocks`, `kv_blocks`); arena buffers may only vary with `tokens`
    and `logits_rows`, which `max_tokens` bounds.

    The step must return the logits computed by one of its kernels and
    each cache's in-place update; a cache operand updated in place may have
    no other use.
  }];
  let dependentDialects = ["::llmc::plan::PlanDialect",
                           "mlir::func::FuncDialect"];
}

#endif // LLMC_CONVERSION_PASSES_TD
