//===- Passes.td - llmc conversion passes ------------------*- tablegen -*-===//
#ifndef LLMC_CONVERSION_PASSES_TD
#define LLMC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTransformerToLoops : Pass<"convert-tfm-to-loops", "mlir::ModuleOp"> {
  let summary = "Lower the tfm step function to loops over memrefs with a "
                "fixed C ABI";
  let description = [{
    Rewrites `func.func @step` (tensors, tfm ops) into
    `func.func @llmc_step` over memrefs, with the C interface
    (`llvm.emit_c_interface`) and this fixed signature:

        token_ids, positions, seq_ids, slot_mapping : memref<?xi32>
        block_tables : memref<?x?xi32>, logits_indices : memref<?xi32>
        weights, kv_pool, scratch : memref<?xi8>
        logits : memref<?x?xf32>   (output)
        thread_index, num_threads : index

    Every thread of the runtime's pool calls the step with its index: each
    kernel splits one independent dimension (output channels, heads, rows)
    across the threads and is followed by a call to the runtime's
    `llmc_barrier()`.

    Weights are views of the packed weight buffer at offsets assigned here
    and recorded on each recipe of `llmc.weights`. The KV caches are views of
    the pool (layer-major, K then V; the block count follows from the pool's
    size) and are written in place. Every intermediate is a view of the
    scratch arena at a static offset; the arena is sized for `max-tokens`
    rows. The sizes the runtime needs (arena, packed weights, bytes per KV
    block) are recorded in the module attribute `llmc.abi`.

    Each op becomes scf loops over memref loads and stores (attention: a
    two-pass softmax over the keys of the token's own sequence, read through
    the block table; the window starts at `max(0, pos + 1 - window)`).
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"256",
           "the most tokens one step may hold (sizes the scratch arena)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::func::FuncDialect",
    "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect"
  ];
}

#endif // LLMC_CONVERSION_PASSES_TD
