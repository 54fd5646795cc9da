//===- TransformerAttrs.td - tfm typed attributes ----------*- tablegen -*-===//
//
// The contracts that travel between passes as typed attributes, each with
// one verifier: RoPE parameters, weight recipes (with a shard spec), the
// per-target kernel configuration, the arena plan and the model facts.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERATTRS_TD
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERATTRS_TD

include "llmc/Dialect/Transformer/IR/TransformerDialect.td"
include "llmc/Dialect/Transformer/IR/TransformerAttrInterfaces.td"

class Tfm_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Transformer_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

/// A double (stored as an APFloat, which hashes), printed so that it
/// round-trips.
class Tfm_F64Parameter<string desc = ""> : APFloatParameter<desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double v;
    if ($_parser.parseFloat(v))
      return ::mlir::failure();
    return ::llvm::APFloat(v);
  }() }];
}
class Tfm_OptionalF64Parameter<string desc = "">
    : OptionalParameter<"std::optional<::llvm::APFloat>", desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<std::optional<::llvm::APFloat>> {
    double v;
    if ($_parser.parseFloat(v))
      return ::mlir::failure();
    return std::optional<::llvm::APFloat>(::llvm::APFloat(v));
  }() }];
  let printer = [{ $_printer << *$_self }];
  let comparator = [{ $_lhs.has_value() == $_rhs.has_value() &&
                      (!$_lhs || $_lhs->bitwiseIsEqual(*$_rhs)) }];
}
class Tfm_EnumParameter<EnumAttrInfo info, string default>
    : EnumParameter<info> {
  let defaultValue = default;
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

def Tfm_RopeAttr : Tfm_Attr<"Rope", "rope"> {
  let summary = "rotary position embedding parameters";
  let description = [{
    `inv_freq[i] = theta ^ (-2i / rotary_dim)` for the first `rotary_dim`
    channels of a head, adjusted by `scaling`:

    - `default`: unchanged;
    - `linear`: divided by `factor`;
    - `llama3`: Llama 3.1 wavelength-banded scaling by `factor`,
      `low_freq_factor`, `high_freq_factor` and `original_max_positions`;
    - `dynamic`: dynamic NTK: once the sequence length `L` exceeds
      `original_max_positions`, `theta` becomes `theta * ((factor * L /
      original_max_positions) - (factor - 1)) ^ (rotary_dim / (rotary_dim -
      2))`.

    The verifier requires exactly the parameters the scaling uses.

    ```mlir
    #tfm.rope<theta = 5.0e+05, rotary_dim = 128, scaling = llama3,
              factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0,
              original_max_positions = 8192>
    ```
  }];
  let parameters = (ins
    Tfm_F64Parameter<"the base">:$theta,
    "int64_t":$rotary_dim,
    Tfm_EnumParameter<Tfm_RopeScaling, "RopeScaling::Default">:$scaling,
    Tfm_OptionalF64Parameter<"linear, llama3, dynamic">:$factor,
    Tfm_OptionalF64Parameter<"llama3">:$low_freq_factor,
    Tfm_OptionalF64Parameter<"llama3">:$high_freq_factor,
    OptionalParameter<"std::optional<int64_t>",
                      "llama3, dynamic">:$original_max_positions
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool isDynamic() const { return getScaling() == RopeScaling::Dynamic; }
    /// The parameters as doubles (factor: 1 when absent).
    double getThetaValue() const { return getTheta().convertToDouble(); }
    double getFactorValue() const {
      return getFactor() ? getFactor()->convertToDouble() : 1.0;
    }
    /// The inverse frequencies of a non-dynamic RoPE, as Hugging Face
    /// computes them (in double, rounded to f32).
    llvm::SmallVector<float> getInverseFrequencies() const;
  }];
}

//===----------------------------------------------------------------------===//
// Weight recipes
//===----------------------------------------------------------------------===//

def Tfm_ShardAttr : Tfm_Attr<"Shard", "shard"> {
  let summary = "a tensor-parallel slice of a weight";
  let description = [{
    Part `index` of `count` equal parts along `axis` of the (transformed)
    checkpoint tensor: the recipe's shape is the part's.
  }];
  let parameters = (ins "int64_t":$axis, "int64_t":$index, "int64_t":$count);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tfm_WeightRecipeAttr : Tfm_Attr<"WeightRecipe", "recipe"> {
  let summary = "how the runtime makes one packed weight from a checkpoint";
  let description = [{
    The packed tensor `name` of type `type` (static shape), made at load
    time from the checkpoint:

    - `transform = none` (default): the first of `sources` the checkpoint
      holds, as is (`sources` defaults to `[name]`);
    - `transform = transpose`: that tensor stored transposed (2-D);
    - `transform = concat`: the `parts` (recipes themselves, not concats)
      stacked along dimension 0.

    An optional `shard` takes one tensor-parallel part of the tensor (of
    each part of a concat, never of the concat itself). Every
    field is checked here once; the artifact writer copies recipes as they
    are into the manifest.

    ```mlir
    #tfm.recipe<"h.0.attn.c_attn.weight" : tensor<192x64xf32>,
                transform = transpose,
                sources = ["transformer.h.0.attn.c_attn.weight",
                           "h.0.attn.c_attn.weight"]>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"the packed tensor's name">:$name,
    "::mlir::RankedTensorType":$type,
    Tfm_EnumParameter<Tfm_WeightTransform, "WeightTransform::None">:$transform,
    OptionalArrayRefParameter<"::mlir::StringAttr",
                              "checkpoint names, first present wins">:$sources,
    OptionalArrayRefParameter<"::mlir::Attribute",
                              "concat: the stacked recipes">:$parts,
    OptionalParameter<"ShardAttr">:$shard
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// `sources`, or `[name]` when absent.
    llvm::SmallVector<llvm::StringRef> getSourceNames() const;
    /// A recipe without sources, parts or shard: the checkpoint tensor
    /// `name` as is.
    bool isTrivial() const;
    /// Prints or parses what follows `"name" : type` (`, key = value`...),
    /// shared with tfm.weight's short form.
    void printFields(::mlir::AsmPrinter &printer) const;
    static ::mlir::ParseResult parseFields(
        ::mlir::AsmParser &parser, WeightTransform &transform,
        llvm::SmallVectorImpl<::mlir::StringAttr> &sources,
        llvm::SmallVectorImpl<::mlir::Attribute> &parts, ShardAttr &shard);
  }];
}

//===----------------------------------------------------------------------===//
// Kernel configuration (chosen per target)
//===----------------------------------------------------------------------===//

def Tfm_CPUKernelConfigAttr : Tfm_Attr<"CPUKernelConfig", "cpu_kernel",
                                       [Tfm_KernelConfigAttrInterface]> {
  let summary = "how the CPU target runs one kernel";
  let description = [{
    Chosen for every kernel op by the CPU target's kernel configuration
    (`llmc-cpu-configure-kernels`) and obeyed by the lowering:

    - `parallel`: the dimension whose work items the runtime splits
      across its threads (each thread runs the kernel on a range of them);
    - `vector_width`: f32 lanes of the target's vectors (LLVM vectorizes
      the reductions and inner loops at this width);
    - linear kernels: `row_block` token rows times `channel_block` output
      channels per pass over k (register blocking), and token tiles of
      `tile_rows` rows (0: no tiling).
  }];
  let parameters = (ins
    EnumParameter<Tfm_ParallelDim>:$parallel,
    "int64_t":$vector_width,
    DefaultValuedParameter<"int64_t", "1">:$row_block,
    DefaultValuedParameter<"int64_t", "1">:$channel_block,
    DefaultValuedParameter<"int64_t", "0">:$tile_rows
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Tfm_CUDAKernelConfigAttr : Tfm_Attr<"CUDAKernelConfig", "cuda_kernel",
                                        [Tfm_KernelConfigAttrInterface]> {
  let summary = "how the CUDA target runs one kernel";
  let description = [{
    Chosen for every kernel op by the CUDA target's kernel configuration
    (`llmc-cuda-configure-kernels`) and obeyed by the lowering and the
    launch:

    - `parallel`: the dimension whose work items the grid covers;
    - `strategy`: how threads map to work items; `thread_per_item`: each
      thread computes one work item (the kernel's loop nest for it), the
      grid has ceil(items / `threads`) blocks of `threads` threads;
    - `threads`: threads per block (a multiple of 32, at most 1024);
    - `vector_width`, `row_block`, `channel_block`, `tile_rows`: as for the
      CPU (1, 1, 1, 0: scalar, unblocked).
  }];
  let parameters = (ins
    EnumParameter<Tfm_ParallelDim>:$parallel,
    Tfm_EnumParameter<Tfm_CUDAStrategy, "CUDAStrategy::ThreadPerItem">
        :$strategy,
    "int64_t":$threads,
    DefaultValuedParameter<"int64_t", "1">:$vector_width,
    DefaultValuedParameter<"int64_t", "1">:$row_block,
    DefaultValuedParameter<"int64_t", "1">:$channel_block,
    DefaultValuedParameter<"int64_t", "0">:$tile_rows
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Module facts
//===----------------------------------------------------------------------===//

def Tfm_ArenaAttr : Tfm_Attr<"Arena", "arena"> {
  let summary = "the activation arena planned for a step";
  let description = [{
    Set on the module by `tfm-plan-memory`: `bytes` for steps of up to
    `max_tokens` tokens, and `naive_bytes`, what the intermediates would
    take without reuse.
  }];
  let parameters = (ins "int64_t":$bytes, "int64_t":$naive_bytes,
                        "int64_t":$max_tokens);
  let assemblyFormat = "`<` struct(params) `>`";
}

def Tfm_ModelAttr : Tfm_Attr<"Model", "model"> {
  let summary = "what the importer knew about the model";
  let description = [{
    Set on the module by the Hugging Face importer; the artifact writer
    copies it into the manifest's `model` section.
  }];
  let parameters = (ins
    StringRefParameter<"as config.json spells it">:$architecture,
    StringRefParameter<"the checkpoint dtype">:$dtype,
    "int64_t":$hidden_size, "int64_t":$num_layers, "int64_t":$num_heads,
    "int64_t":$num_kv_heads, "int64_t":$head_dim, "int64_t":$vocab_size,
    "int64_t":$max_position_embeddings,
    "::mlir::DenseI64ArrayAttr":$eos_token_ids,
    OptionalParameter<"std::optional<int64_t>">:$bos_token_id
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERATTRS_TD
