//===- PlanOps.td - the plan dialect: kernels and the launch plan -*- tablegen -*-===//
#ifndef LLMC_DIALECT_PLAN_IR_PLANOPS_TD
#define LLMC_DIALECT_PLAN_IR_PLANOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Plan_Dialect : Dialect {
  let name = "plan";
  let cppNamespace = "::llmc::plan";
  let summary = "Kernels and the host-side launch plan of a compiled step";
  let description = [{
    After `convert-tfm-to-plan`, a step is a set of kernel functions (one
    per distinct fused op, shared by every layer that uses it) and one
    `plan.program`: the ordered launches of one step, each naming a kernel,
    the buffers it reads and writes (an offset into the packed weights, the
    activation arena, a KV cache, a step input or the logits output), and
    the work items the runtime splits across threads or blocks. The program
    is serialized into the artifact's manifest; the kernels are compiled per
    target.

    Inside a kernel, `plan.load` and `plan.store` bind the kernel's memref
    arguments to the tensors of the one tfm op it holds; the per-target
    lowering patterns replace the three by loops over the memrefs.
  }];
  let useDefaultAttributePrinterParser = 1;
  let discardableAttrs = (ins
    // On a func.func: a kernel (its arguments are launch arguments).
    "::mlir::UnitAttr":$kernel
  );
  let hasOperationAttrVerify = 1;
  let dependentDialects = ["::llmc::tfm::TransformerDialect"];
}

class Plan_Op<string mnemonic, list<Trait> traits = []>
    : Op<Plan_Dialect, mnemonic, traits>;
class Plan_Attr<string name, string attrMnemonic>
    : AttrDef<Plan_Dialect, name> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Plan_BufferAttr : Plan_Attr<"Buffer", "buffer"> {
  let summary = "a launch argument: a dense buffer in one of the spaces";
  let description = [{
    `space` is one of the artifact's buffer spaces (schema::BufferSpace):

    - `weights + OFFSET`, `arena + OFFSET`: bytes into the packed weights or
      the activation arena;
    - `kv CACHE`: the whole paged cache number CACHE;
    - a step input by name (`token_ids`, `positions`, `seq_ids`,
      `slot_mapping`, `block_tables`, `logits_indices`);
    - `logits`: the step's output.

    Then the buffer's memref type and, for each of its dynamic dimensions,
    the step dimension it is (`tokens`, `logits_rows`, `seqs`, `max_blocks`,
    `kv_blocks`):

    ```mlir
    #plan.buffer<arena + 1024 : memref<?x64xf32> [tokens]>
    #plan.buffer<kv 3 : memref<?x16x2x16xf32> [kv_blocks]>
    ```
  }];
  let parameters = (ins
    "::llmc::schema::BufferSpace":$space,
    "int64_t":$index,
    "::mlir::MemRefType":$type,
    ArrayRefParameter<"::llmc::schema::StepDim">:$dims
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The buffer's text without the `#plan.buffer<>` around it.
    void printBody(::mlir::AsmPrinter &printer) const;
    static BufferAttr parseBody(::mlir::AsmParser &parser);
    /// The same buffer seen with another type (a view).
    BufferAttr withType(::mlir::MemRefType type,
                        llvm::ArrayRef<::llmc::schema::StepDim> dims) const;
  }];
}

def Plan_ExtentAttr : Plan_Attr<"Extent", "extent"> {
  let summary = "how many work items a launch has";
  let description = [{
    `scale`, times the step dimension `dim` when present: `768`, `tokens`,
    `16 x tokens`.
  }];
  let parameters = (ins "int64_t":$scale,
                        OptionalParameter<"std::optional<::llmc::schema::StepDim>">:$dim);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Plan_WeightAttr : Plan_Attr<"Weight", "weight"> {
  let summary = "a packed weight: its byte offset and its recipe";
  let parameters = (ins "int64_t":$offset,
                        "::llmc::tfm::WeightRecipeAttr":$recipe);
  let assemblyFormat = "`<` $offset `,` $recipe `>`";
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

def Plan_LoadOp : Plan_Op<"load", [Pure]> {
  let summary = "a kernel argument as the tensor the kernel's op reads";
  let arguments = (ins AnyMemRef:$source);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

def Plan_StoreOp : Plan_Op<"store"> {
  let summary = "the kernel's result is stored in this argument";
  let description = [{
    Names the buffer the producing op writes its result into. For an op
    that updates a KV cache in place, the buffer is the one it loaded the
    cache from.
  }];
  let arguments = (ins AnyRankedTensor:$value,
                       Arg<AnyMemRef, "", [MemWrite]>:$dest);
  let assemblyFormat = "$value `,` $dest attr-dict `:` type($value) `->` type($dest)";
  let hasVerifier = 1;
}

def Plan_ProgramOp : Plan_Op<"program", [Symbol, SingleBlock, NoTerminator,
                                         IsolatedFromAbove]> {
  let summary = "the launch plan of one step";
  let description = [{
    The ordered launches of one step in its single block, with what the
    runtime needs to allocate and bind: the arena size for steps of up to
    `max_tokens` tokens, the packed weights (`#plan.weight`: offset and
    recipe) and their total size, the KV caches' types (one per cache, in
    pool order), and the logits' width.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       I64Attr:$arena_bytes, I64Attr:$max_tokens,
                       I64Attr:$weights_bytes,
                       TypedArrayAttrBase<Plan_WeightAttr, "packed weights">:$weights,
                       TypeArrayAttr:$kv_caches,
                       I64Attr:$vocab_size);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    mlir::Block &getBlock() { return getBody().front(); }
  }];
}

def Plan_LaunchOp : Plan_Op<"launch", [HasParent<"ProgramOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "run one kernel over its work items";
  let description = [{
    Runs `kernel` with `args` (one buffer per kernel argument, in order)
    over `extent` work items, which the runtime divides among its threads
    (CPU) or blocks (GPU); the next launch starts when this one is done.
    The kernel is a function of the module, or of a nested module of
    kernels (`@llmc_kernels::@rms_norm_0` once a GPU target moved them
    into a gpu.module). On a GPU, `threads` is the block size: the grid has
    ceil(work items / threads) blocks (`... over tokens threads 128`).

    ```mlir
    plan.launch @rms_norm_0(arena + 0 : memref<?x64xf32> [tokens],
                            weights + 4096 : memref<64xf32>,
                            arena + 1024 : memref<?x64xf32> [tokens]) over tokens
    ```
  }];
  let arguments = (ins SymbolRefAttr:$kernel,
                       TypedArrayAttrBase<Plan_BufferAttr, "buffers">:$args,
                       Plan_ExtentAttr:$extent,
                       OptionalAttr<I64Attr>:$threads);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

def Plan_CollectiveOp : Plan_Op<"collective", [HasParent<"ProgramOp">]> {
  let summary = "a collective over the tensor-parallel group, or a "
                "pipeline stage's send / receive";
  let description = [{
    Runs the runtime's communicator on buffers (no kernel): `all_reduce`
    sums `args[0]` over the ranks into `args[1]`; `all_gather` concatenates
    the ranks' `args[0]` along `axis` into `args[1]`. Every rank of the
    tensor-parallel group issues the same collectives in the same order.
    `send` sends `args[0]` to pipeline stage `peer` and `recv` receives
    `args[0]` from it (the same tensor-parallel rank of that stage).

    ```mlir
    plan.collective "all_reduce" [#plan.buffer<...>, #plan.buffer<...>]
    plan.collective "send" [#plan.buffer<...>] {peer = 1 : i64}
    ```
  }];
  let arguments = (ins StrAttr:$kind,
                       TypedArrayAttrBase<Plan_BufferAttr, "buffers">:$args,
                       OptionalAttr<I64Attr>:$axis,
                       OptionalAttr<I64Attr>:$peer);
  let assemblyFormat = "$kind $args attr-dict";
  let hasVerifier = 1;
}

#endif // LLMC_DIALECT_PLAN_IR_PLANOPS_TD
