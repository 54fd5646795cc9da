//===- TransformerOps.td - tfm operations ------------------*- tablegen -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMEROPS_TD
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMEROPS_TD

include "llmc/Dialect/Transformer/IR/TransformerAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tfm_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Tfm_IntTensor : RankedTensorOf<[I32, I64]>;
// A weight as stored: floats, or int8 rows with their scales (i8 [N, K + 4],
// see tfm-quantize-weights).
def Tfm_WeightTensor : RankedTensorOf<[AnyFloat, I8]>;

//===----------------------------------------------------------------------===//
// Parameters and embeddings
//===----------------------------------------------------------------------===//

def Tfm_WeightOp : Tfm_Op<"weight", [Pure]> {
  let summary = "symbolic reference to a model parameter";
  let description = [{
    Names a parameter of the packed weight set by its recipe
    (`#tfm.recipe`): the runtime makes it from the checkpoint at load time;
    the IR never holds weight data, so one compiled program serves every
    checkpoint of the same architecture. The short form is a checkpoint
    tensor taken as is; other recipes follow the name:

    ```mlir
    %w = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
    %c = tfm.weight "h.0.attn.c_attn.weight", transform = transpose,
           sources = ["transformer.h.0.attn.c_attn.weight"] : tensor<192x64xf32>
    ```
  }];
  let arguments = (ins Tfm_WeightRecipeAttr:$recipe);
  let results = (outs Tfm_WeightTensor:$result);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "WeightRecipeAttr":$recipe), [{
      build($_builder, $_state, recipe.getType(), recipe);
    }]>
  ];
  let extraClassDeclaration = [{
    llvm::StringRef getName() { return getRecipe().getName(); }
  }];
}

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure]> {
  let summary = "row lookup in an embedding table";
  let description = [{
    `result[t, :] = table[ids[t], :]` for a table `[vocab, hidden]` and ids
    `[tokens]`; the result is `[tokens, hidden]`.

    With `vocab_start` the table holds only rows `[vocab_start, vocab_start
    + rows)` of the vocabulary (one tensor-parallel rank's part):
    `result[t, :] = table[ids[t] - vocab_start, :]` for ids in that range,
    and zeros for the others, so that the ranks' results sum to the lookup.
  }];
  let arguments = (ins Tfm_WeightTensor:$table, Tfm_IntTensor:$ids,
                       OptionalAttr<I64Attr>:$vocab_start);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$table `,` $ids attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalization and pointwise
//===----------------------------------------------------------------------===//

def Tfm_RMSNormOp : Tfm_Op<"rms_norm",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{
    `result = input / sqrt(mean(input^2, -1) + eps) * weight`, with `weight`
    of the size of the last dimension of `input`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                       F64Attr:$eps);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $weight attr-dict `:` type($input) `,` type($weight)";
  let hasVerifier = 1;
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `result = (input - mean) / sqrt(var + eps) * weight + bias` over the last
    dimension (biased variance, as torch.nn.LayerNorm).
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_FloatTensor:$weight,
                       Tfm_FloatTensor:$bias, F64Attr:$eps);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias attr-dict `:` "
                       "type($input) `,` type($weight) `,` type($bias)";
  let hasVerifier = 1;
}

def Tfm_AddRMSNormOp : Tfm_Op<"add_rms_norm",
    [Pure, AllTypesMatch<["lhs", "rhs", "sum", "result"]>]> {
  let summary = "residual add fused with the RMSNorm of its result";
  let description = [{
    One row kernel: `sum = lhs + rhs` (the new residual stream) and
    `result = rms_norm(sum, weight)`. Made by `tfm-fuse-add-norm`.
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs,
                       Tfm_FloatTensor:$weight, F64Attr:$eps);
  let results = (outs Tfm_FloatTensor:$sum, Tfm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $weight attr-dict `:` type($lhs) "
                       "`,` type($weight)";
  let hasVerifier = 1;
}

def Tfm_AddLayerNormOp : Tfm_Op<"add_layer_norm",
    [Pure, AllTypesMatch<["lhs", "rhs", "sum", "result"]>]> {
  let summary = "residual add fused with the LayerNorm of its result";
  let description = [{
    One row kernel: `sum = lhs + rhs` and
    `result = layer_norm(sum, weight, bias)`. Made by `tfm-fuse-add-norm`.
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs,
                       Tfm_FloatTensor:$weight, Tfm_FloatTensor:$bias,
                       F64Attr:$eps);
  let results = (outs Tfm_FloatTensor:$sum, Tfm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs `,` $weight `,` $bias attr-dict `:` "
                       "type($lhs) `,` type($weight) `,` type($bias)";
  let hasVerifier = 1;
}

class Tfm_BinaryOp<string mnemonic, string sym>
    : Tfm_Op<mnemonic, [Pure, Commutative, Elementwise,
                        SameOperandsAndResultType]> {
  let summary = "elementwise " # mnemonic;
  let description = "`result = lhs " # sym # " rhs`, elementwise, operands "
                    "of one type.";
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}
def Tfm_AddOp : Tfm_BinaryOp<"add", "+">;
def Tfm_MulOp : Tfm_BinaryOp<"mul", "*">;

def Tfm_SiLUOp : Tfm_Op<"silu", [Pure, Elementwise,
                                 SameOperandsAndResultType]> {
  let summary = "x * sigmoid(x), elementwise";
  let arguments = (ins Tfm_FloatTensor:$input);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Tfm_GELUOp : Tfm_Op<"gelu", [Pure, Elementwise,
                                 SameOperandsAndResultType]> {
  let summary = "Gaussian error linear unit, elementwise";
  let description = [{
    `approximation = none` is the exact erf form
    `0.5 x (1 + erf(x / sqrt(2)))`; `tanh` is
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (GPT-2's `gelu_new`).
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
      DefaultValuedAttr<Tfm_GeluApproximationAttr,
                        "GeluApproximation::None">:$approximation);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Tfm_SoftmaxOp : Tfm_Op<"softmax", [Pure,
                                       SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

def Tfm_LinearOp : Tfm_Op<"linear", [Pure, AttrSizedOperandSegments]> {
  let summary = "x * transpose(W) + bias, with an optional epilogue";
  let description = [{
    `input` is `[..., in]`, `weight` is `[out, in]` (torch.nn.Linear layout),
    the optional `bias` is `[out]`; the result is `[..., out]`, passed
    through the epilogue in the same kernel:

    - `none`: as is;
    - `swiglu`: the result is `[..., out / 2]`, `silu(y[:out/2]) *
      y[out/2:]` (gate and up projections merged, see tfm-fuse-epilogues);
    - `gelu`, `gelu_tanh`: GELU in its exact or tanh form.

    Then the optional `residual` (of the result's type) is added.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_WeightTensor:$weight,
                       Optional<Tfm_FloatTensor>:$bias,
                       Optional<Tfm_FloatTensor>:$residual,
                       DefaultValuedAttr<Tfm_EpilogueAttr,
                                         "Epilogue::None">:$epilogue);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? "
                       "(`residual` `(` $residual^ `)`)? attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tfm_MatmulOp : Tfm_Op<"matmul", [Pure]> {
  let summary = "batched matrix product";
  let description = [{
    `lhs [..., m, k] x rhs [..., k, n] -> [..., m, n]` with equal batch
    dimensions.
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Positions and attention
//===----------------------------------------------------------------------===//

def Tfm_RoPEOp : Tfm_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding (rotate-half form)";
  let description = [{
    Rotates the first `rotary_dim` channels of every head of `input`
    `[tokens, heads, head_dim]` by the angle `position * inv_freq[i]`, pairing
    channel `i` with `i + rotary_dim / 2` (the Llama / GPT-NeoX layout), with
    the frequencies of `rope` (`#tfm.rope`). For dynamic NTK scaling the
    sequence length `L` is one more than the largest position that the
    token's sequence (`seq_ids`, required then) has in this step, which is
    what Hugging Face uses for a whole prompt and for each decode step.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_IntTensor:$positions,
                       Optional<Tfm_IntTensor>:$seq_ids, Tfm_RopeAttr:$rope);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input `,` $positions (`,` $seq_ids^)? attr-dict `:` "
                       "type($input) `,` type($positions) "
                       "(`,` type($seq_ids)^)?";
  let hasVerifier = 1;
}

def Tfm_KVCacheWriteOp : Tfm_Op<"kv_cache_write",
    [Pure, AllTypesMatch<["cache", "result"]>]> {
  let summary = "store keys or values into a paged KV cache";
  let description = [{
    `cache` is `[num_blocks, block_size, kv_heads, head_dim]`, `values` is
    `[tokens, kv_heads, head_dim]` and `slots` is `[tokens]`: token `t` goes
    to block `slots[t] / block_size`, row `slots[t] % block_size`. A negative
    slot skips the token (padding). The result is the updated cache; the
    lowering updates the cache buffer in place.
  }];
  let arguments = (ins Tfm_FloatTensor:$cache, Tfm_FloatTensor:$values,
                       Tfm_IntTensor:$slots);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$cache `,` $values `,` $slots attr-dict `:` "
                       "type($cache) `,` type($values) `,` type($slots)";
  let hasVerifier = 1;
}

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure]> {
  let summary = "causal paged attention over a ragged batch";
  let description = [{
    For each token `t` of sequence `seq_ids[t]` at position `positions[t]`,
    attends query `query[t]` (`[tokens, heads, head_dim]`) to the keys and
    values at positions `0 .. positions[t]` of its sequence (or the last
    `sliding_window` of them), read from the paged caches
    (`[num_blocks, block_size, kv_heads, head_dim]`) through
    `block_tables[seq_ids[t]]`. Query head `h` reads KV head
    `h / (heads / kv_heads)` (grouped-query attention; MQA when `kv_heads` is
    1). Scores are multiplied by `scale` before the softmax.
  }];
  let arguments = (ins Tfm_FloatTensor:$query, Tfm_FloatTensor:$key_cache,
                       Tfm_FloatTensor:$value_cache,
                       Tfm_IntTensor:$block_tables, Tfm_IntTensor:$seq_ids,
                       Tfm_IntTensor:$positions, F64Attr:$scale,
                       OptionalAttr<I64Attr>:$sliding_window);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key_cache `,` $value_cache `,` "
                       "$block_tables `,` $seq_ids `,` $positions attr-dict "
                       "`:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tfm_QKVRopeCacheOp : Tfm_Op<"qkv_rope_cache",
    [Pure, AttrSizedOperandSegments,
     AllTypesMatch<["key_cache", "key_cache_out", "value_cache",
                    "value_cache_out"]>]> {
  let summary = "QKV projection with RoPE and the KV-cache write as its "
                "epilogue";
  let description = [{
    One kernel over the token rows: `input [tokens, in] x weight^T (+ bias)`
    gives each token's queries, keys and values (rows of `weight`: the query
    heads, then the KV heads' keys, then their values); when `rope` is
    present, queries and keys are rotated as `tfm.rope` with the same
    parameters does (`seq_ids` is needed for dynamic scaling); keys and
    values go straight to the paged caches at `slots` (negative: skipped)
    and the queries are the result. Made by `tfm-fuse-qkv-rope-cache`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_WeightTensor:$weight,
                       Optional<Tfm_FloatTensor>:$bias,
                       Tfm_IntTensor:$positions, Tfm_IntTensor:$slots,
                       Tfm_FloatTensor:$key_cache,
                       Tfm_FloatTensor:$value_cache,
                       Optional<Tfm_IntTensor>:$seq_ids,
                       OptionalAttr<Tfm_RopeAttr>:$rope);
  let results = (outs Tfm_FloatTensor:$query,
                      Tfm_FloatTensor:$key_cache_out,
                      Tfm_FloatTensor:$value_cache_out);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `:` type($bias) `)`)?
    `positions` `(` $positions `)` `slots` `(` $slots `)`
    `caches` `(` $key_cache `,` $value_cache `)`
    (`seq_ids` `(` $seq_ids^ `:` type($seq_ids) `)`)? (`rope` $rope^)?
    attr-dict `:`
    type($input) `,` type($weight) `,` type($positions) `,` type($slots) `,`
    type($key_cache) `->` type($query)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Tfm_ReshapeOp : Tfm_Op<"reshape", [Pure]> {
  let summary = "reinterpret the shape, keeping element order";
  let description = [{
    At most one dynamic dimension in the result; when every dimension is
    static the element counts must match.
  }];
  let arguments = (ins Tfm_FloatTensor:$input);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_TransposeOp : Tfm_Op<"transpose", [Pure]> {
  let summary = "permute dimensions";
  let description = "`result.shape[i] = input.shape[permutation[i]]`.";
  let arguments = (ins Tfm_FloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_ConcatOp : Tfm_Op<"concat", [Pure]> {
  let summary = "concatenate along one axis";
  let arguments = (ins Variadic<Tfm_FloatTensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$inputs attr-dict `:` functional-type($inputs, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_SplitOp : Tfm_Op<"split", [Pure]> {
  let summary = "split along one axis into consecutive parts";
  let description = [{
    The result sizes along `axis` are the parts' sizes; they must add up to
    the input's size when both are static.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Variadic<Tfm_FloatTensor>:$results);
  let assemblyFormat =
      "$input attr-dict `:` type($input) `->` type($results)";
  let hasVerifier = 1;
}

def Tfm_SliceOp : Tfm_Op<"slice", [Pure]> {
  let summary = "take a contiguous range along one axis";
  let description = "`result = input[..., start : start + size, ...]` on "
                    "`axis`.";
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis, I64Attr:$start,
                       I64Attr:$size);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfm_GatherLastTokensOp : Tfm_Op<"gather_last_tokens", [Pure]> {
  let summary = "pick the token rows that need logits";
  let description = [{
    `result[s, :] = input[indices[s], :]`: the last token of every sequence
    that samples in this step, so the LM head runs on those rows only.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, Tfm_IntTensor:$indices);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$input `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Parallelism
//===----------------------------------------------------------------------===//

def Tfm_AllReduceOp : Tfm_Op<"all_reduce",
    [AllTypesMatch<["input", "result"]>,
     MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "reduce a tensor across the tensor-parallel group";
  let description = [{
    Every rank of the group contributes `input` and receives the reduction.
    Modelled with side effects so that it is never removed, duplicated or
    reordered across other collectives: all ranks must issue it in the same
    order.
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
                       DefaultValuedAttr<Tfm_ReduceKindAttr,
                                         "ReduceKind::Sum">:$kind);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tfm_AllGatherOp : Tfm_Op<"all_gather",
    [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "concatenate a tensor's parts across the tensor-parallel group";
  let description = [{
    Every rank contributes its `input` and receives all ranks' inputs
    concatenated along `axis`, in rank order: the result's `axis` dimension
    is `group` times the input's. Ordered like `tfm.all_reduce`.
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis, I64Attr:$group);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tfm_SendOp : Tfm_Op<"send", [MemoryEffects<[MemWrite]>]> {
  let summary = "send a tensor to another pipeline stage";
  let description = [{
    Sends `input` to pipeline stage `peer` (the same tensor-parallel rank of
    that stage), which receives it with a `tfm.recv` of the same type; a
    stage's step ends with the send of its hidden states to the next stage.

    ```mlir
    tfm.send %h {peer = 1 : i64} : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$peer);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Tfm_RecvOp : Tfm_Op<"recv", [MemoryEffects<[MemRead]>]> {
  let summary = "receive a tensor from another pipeline stage";
  let description = [{
    Receives what pipeline stage `peer` sends with `tfm.send`. The result
    has as many rows (dimension 0) as `rows` has: a step input such as the
    token ids, which is how the receiving stage knows the size of a
    ragged step's message.

    ```mlir
    %h = tfm.recv %token_ids {peer = 0 : i64} : tensor<?xi32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$rows, I64Attr:$peer);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat =
      "$rows attr-dict `:` type($rows) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Token selection
//===----------------------------------------------------------------------===//

def Tfm_ArgmaxOp : Tfm_Op<"argmax", [Pure]> {
  let summary = "index of the largest logit per row (greedy decoding)";
  let description = "`[rows, vocab] -> [rows]`; ties pick the lowest index.";
  let arguments = (ins Tfm_FloatTensor:$logits);
  let results = (outs Tfm_IntTensor:$result);
  let assemblyFormat =
      "$logits attr-dict `:` type($logits) `->` type($result)";
  let hasVerifier = 1;
}

def Tfm_SampleOp : Tfm_Op<"sample", [Pure]> {
  let summary = "temperature / top-k / top-p sampling per row";
  let description = [{
    Samples one index per row of `logits [rows, vocab]` with per-row
    `temperature`, `top_k` (0: off) and `top_p` (1: off), using the caller's
    uniform random numbers `uniform [rows]` in [0, 1), so the op is pure and
    reproducible. A row with temperature 0 is greedy.
  }];
  let arguments = (ins Tfm_FloatTensor:$logits, Tfm_FloatTensor:$temperature,
                       Tfm_IntTensor:$top_k, Tfm_FloatTensor:$top_p,
                       Tfm_FloatTensor:$uniform);
  let results = (outs Tfm_IntTensor:$result);
  let assemblyFormat = "$logits `,` $temperature `,` $top_k `,` $top_p `,` "
                       "$uniform attr-dict `:` functional-type(operands, "
                       "results)";
  let hasVerifier = 1;
}

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMEROPS_TD
