//===- Passes.td - tfm dialect passes ----------------------*- tablegen -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_TD
#define LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def PlanMemory : Pass<"tfm-plan-memory", "mlir::ModuleOp"> {
  let summary = "Give every intermediate of the step a static offset in one "
                "reused activation arena";
  let description = [{
    Liveness over the step function (the function marked `tfm.step`, one
    block, program order) decides
    which intermediates are alive together; a first-fit linear scan then
    places each in the lowest free range of one arena, so memory is reused
    as soon as a value dies. Sizes are bounds for `max-tokens` rows (the
    token dimension is the only dynamic one).

    Values that need no arena memory are skipped: `tfm.weight` (the weight
    buffer), `tfm.kv_cache_write` and the cache results of
    `tfm.qkv_rope_cache` (the caches, in place), `tfm.reshape` (a
    view of its input, which therefore stays alive as long as the view), and
    the returned logits (the caller's output buffer). An op's result never
    shares memory with its operands.

    Results: `tfm.arena_offsets` on each op (one byte offset per result,
    -1 where no arena memory is used), and on the module `tfm.arena =
    #tfm.arena<bytes, naive_bytes, max_tokens>` (the arena size, the sum of
    all intermediates, what no reuse would take, and the token budget it
    was planned for). convert-tfm-to-plan places every intermediate at its
    offset.
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"256",
           "the most tokens one step may hold">
  ];
}

def ShardTensorParallel : Pass<"tfm-shard-tensor-parallel", "mlir::ModuleOp"> {
  let summary = "Rewrite the step into one tensor-parallel rank's part "
                "(Megatron-style)";
  let description = [{
    Rewrites the (unfused) step function into what rank `rank` of `tp`
    tensor-parallel ranks computes; the driver runs it once per rank on a
    copy of the step. Which linears split their output (column-parallel)
    and which their input (row-parallel) follows from the dataflow, not
    from names:

    - a linear whose output only reaches attention heads, KV caches,
      pointwise ops with other such values, and the input of another linear
      is column-parallel: its weight and bias keep rank `rank`'s rows;
    - a linear whose input is split is row-parallel: its weight keeps the
      matching columns, its bias stays on rank 0 only, and its output is a
      partial sum; an `tfm.all_reduce` is inserted before the first value
      that needs the whole sum (the residual add);
    - attention heads split evenly (`heads % tp == 0`); KV heads split when
      `kv_heads % tp == 0`, and are replicated when `tp % kv_heads == 0`
      (rank r holds KV head `r * kv_heads / tp`, the one its query heads
      read); a `tfm.split` of a column-parallel output (GPT-2's fused QKV)
      becomes one column-parallel linear per part;
    - the token embedding is vocab-parallel (each rank holds `vocab / tp`
      rows, `vocab_start` set, followed by an all-reduce) and so is the LM
      head (followed by a `tfm.all_gather` of the logits) when `tp` divides
      the vocabulary; otherwise both stay whole on every rank.

    Weights stay weight-free recipes: each sharded weight's `#tfm.recipe`
    gets `shard = <axis, index, count>`. A degree that divides none of
    these in a supported way is an error naming the weight and the numbers.
  }];
  let options = [
    Option<"tp", "tp", "int64_t", /*default=*/"1",
           "tensor-parallel ranks">,
    Option<"rank", "rank", "int64_t", /*default=*/"0",
           "the rank whose part to build, in [0, tp)">
  ];
}

def PartitionPipeline : Pass<"tfm-partition-pipeline", "mlir::ModuleOp"> {
  let summary = "Keep one pipeline stage's contiguous layers of the step, "
                "with send/recv at its edges";
  let description = [{
    Rewrites the (unfused) step function into what pipeline stage `stage`
    of `pp` computes; the driver runs it once per stage on a copy of the
    step, before tensor-parallel sharding.

    Layers are found from the dataflow, not from names: a layer boundary is
    the last point before a layer's `tfm.attention` where exactly one value
    that depends on the token ids is alive (the residual stream
    `[tokens, hidden]`; KV cache updates returned at the end do not count).
    The step then is a sequence of segments, one per layer, the first also
    holding the embedding and the last the final norm and LM head. Each
    segment's cost is the compile report's flops per token (its linears'
    weights, attention over a nominal 256-token context, a few flops per
    element of the other ops; Utils/CostModel.h) and the segments are split
    into `pp` contiguous ranges that minimize the largest range's cost,
    every stage holding at least one layer.

    Stage `stage` keeps its range's ops (plus the weights and position-only
    values they read), receives its input with `tfm.recv` from stage
    `stage - 1` (sized by the token ids) unless it is the first, and ends
    with `tfm.send` to stage `stage + 1` unless it is the last; only the
    last returns logits. It keeps only its layers' KV caches, in their
    order. `pp` above the number of layers is an error naming both.
  }];
  let options = [
    Option<"pp", "pp", "int64_t", /*default=*/"1",
           "pipeline stages">,
    Option<"stage", "stage", "int64_t", /*default=*/"0",
           "the stage whose part to keep, in [0, pp)">
  ];
}

def MergeProjections : Pass<"tfm-merge-projections", "mlir::ModuleOp"> {
  let summary = "Merge projections of one input (Q/K/V, gate/up) into one "
                "linear";
  let description = [{
    `tfm.linear` ops that read the same input, with weights (and biases, all
    or none) that are `tfm.weight`s, become one linear over the
    concatenated weight followed by a `tfm.split` of its output. The IR
    stays weight-free: the merged weight is a new `tfm.weight` whose recipe
    (`#tfm.recipe` with transform `concat`, the original recipes as
    `parts`) tells the runtime to stack the checkpoint tensors at load time.
    Only checkpoint tensors (as is, transposed or sharded) are merged, not
    weights that are concatenations already.
    Linears with and without bias are merged separately.
  }];
}

def WeightDType : Pass<"tfm-weight-dtype", "mlir::ModuleOp"> {
  let summary = "Store the matrix weights in bf16 or f16 (kernels widen them "
                "to f32 in registers)";
  let description = [{
    Retypes every `tfm.weight` whose users all read it as a matrix (the
    weight of `tfm.linear` and `tfm.qkv_rope_cache`, the table of
    `tfm.embedding`) to `dtype`, recipe included (the runtime converts the
    checkpoint into that type at load, or takes it as is when it is
    stored so). Norm weights and biases stay f32: they are small and
    every token reads them. Activations, accumulation and the KV cache
    stay f32; the kernels widen each weight element as they load it.

    `dtype` is `f32`, `bf16`, `f16` or `auto`: the checkpoint's own
    precision as `tfm.model` records it (`bfloat16` -> bf16, `float16`
    -> f16, anything else -> f32), so a half-precision checkpoint runs
    at half the weight memory and bandwidth without rounding anything.

    ```mlir
    %w = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x176xbf16>
    %y = tfm.linear %x, %w : (tensor<?x176xf32>, tensor<64x176xbf16>) -> tensor<?x64xf32>
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"auto\"",
           "f32, bf16, f16, or auto (the checkpoint's)">
  ];
}

def QuantizeWeights : Pass<"tfm-quantize-weights", "mlir::ModuleOp"> {
  let summary = "Quantize the projection weights to int8 rows (weight-only, "
                "per output channel)";
  let description = [{
    With `scheme=int8`, every `tfm.weight` read only as the weight of
    `tfm.linear` or `tfm.qkv_rope_cache` (Q/K/V, O, the MLP, the LM head)
    or as the table of a token `tfm.embedding` (learned positions stay)
    becomes int8 rows: `tensor<N x (K + 4) x i8>`, each row's K
    values `round(w / s)` (to nearest even, in [-127, 127]) followed by
    its f32 scale `s = max|w| / 127` in 4 little-endian bytes. The recipe
    keeps its sources, transform, shard or f32 parts: the runtime packs the
    f32 rows as before and quantizes each at load (the artifact stays
    weight-free). Kernels convert each i8 to f32 in registers, sum in f32
    and multiply the row's sum by its scale; the embedding scales the
    token's row. `none` (the default) changes nothing.

    ```mlir
    %w = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x180xi8>
    %y = tfm.linear %x, %w : (tensor<?x176xf32>, tensor<64x180xi8>) -> tensor<?x64xf32>
    ```
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", /*default=*/"\"none\"",
           "none or int8">
  ];
}

def KVDType : Pass<"tfm-kv-dtype", "mlir::ModuleOp"> {
  let summary = "Store the KV caches in f16 or bf16 (half the KV memory)";
  let description = [{
    Retypes the step's KV caches (its cache arguments, the caches the
    kernels update and the ones it returns) to `dtype`. Keys and values
    are rounded as they are written and widened to f32 as attention reads
    them; queries, scores and sums stay f32. `f32` (the default) changes
    nothing. A pool of the same bytes holds twice the tokens.

    ```mlir
    %q, %k, %v = tfm.qkv_rope_cache ... : (..., tensor<?x16x2x32xf16>, tensor<?x16x2x32xf16>) -> ...
    ```
  }];
  let options = [
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "f32, f16 or bf16">
  ];
}

def HoistGather : Pass<"tfm-hoist-gather", "mlir::ModuleOp"> {
  let summary = "Compute the LM head (and what feeds it) only for the rows "
                "that need logits";
  let description = [{
    Moves `tfm.gather_last_tokens` above the row-wise ops that produce its
    input (norms, linears without a residual, pointwise activations) as long
    as they have no other user, so the final norm and the LM head run on
    the sampled rows instead of every token of the step. The importer
    already emits this order; the pass gives it to any tfm step.
  }];
}

def FuseAddNorm : Pass<"tfm-fuse-add-norm", "mlir::ModuleOp"> {
  let summary = "Fuse a residual add into the RMSNorm / LayerNorm that "
                "reads it";
  let description = [{
    `tfm.rms_norm(tfm.add(a, b))` becomes `tfm.add_rms_norm(a, b)`, one row
    kernel with two results: the new residual stream `a + b` (replacing the
    add for its other users) and its normalization. Likewise `tfm.layer_norm`
    into `tfm.add_layer_norm`.
  }];
}

def FuseQKVRopeCache : Pass<"tfm-fuse-qkv-rope-cache", "mlir::ModuleOp"> {
  let summary = "Fuse RoPE and the KV-cache writes into the merged QKV "
                "projection";
  let description = [{
    Matches the merged QKV projection (`tfm.linear` + a three-way
    `tfm.split`, see tfm-merge-projections), the reshapes to heads, the
    `tfm.rope` of queries and keys (same attributes) and the
    `tfm.kv_cache_write` of keys and values (same slots), and replaces them
    with one `tfm.qkv_rope_cache`: the projection's epilogue rotates queries
    and keys and writes keys and values to the caches. Nothing is fused
    when any intermediate has another user, or a user of the results sits
    before the last replaced op.
  }];
}

def FuseEpilogues : Pass<"tfm-fuse-epilogues", "mlir::ModuleOp"> {
  let summary = "Fuse activations into the linear that produces their input";
  let description = [{
    - `silu(s#0) * s#1` where `s` splits a linear's output in two halves
      (the merged gate and up projections) becomes that linear with the
      `swiglu` epilogue, half as wide;
    - `gelu(linear)` becomes the linear with the `gelu` or `gelu_tanh`
      epilogue;
    - then `r + linear` becomes the linear with `residual(r)` (residual adds
      that tfm-fuse-add-norm left, e.g. the last layer's).

    Activations fuse only into plain linears (no epilogue yet); every fused
    linear must have no other user.
  }];
}

#endif // LLMC_DIALECT_TRANSFORMER_TRANSFORMS_PASSES_TD
