//===- TransformerDialect.td - the tfm dialect definition --*- tablegen -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_TD
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Transformer_Dialect : Dialect {
  let name = "tfm";
  let cppNamespace = "::llmc::tfm";
  let summary = "Transformer decoder-step operations";
  let description = [{
    The `tfm` dialect describes one scheduler step of a decoder-only
    transformer over a flat, ragged batch of tokens: prefill chunks and decode
    tokens of many sequences side by side. Values are tensors; the leading
    dimension of activations is the token count of the step and is dynamic.

    The dialect is weight-free: parameters enter through `tfm.weight`, a
    symbolic reference by name that the runtime binds at load time. The KV
    cache is a tensor of fixed-size blocks `[num_blocks, block_size,
    kv_heads, head_dim]` that `tfm.kv_cache_write` updates through a slot
    mapping and `tfm.attention` reads through per-sequence block tables.
  }];
  let useDefaultAttributePrinterParser = 1;
  // Typed contracts between passes, each with one name and one type
  // (TransformerDialect::get<Name>AttrHelper()).
  let discardableAttrs = (ins
    // On the step function: the one decoder step (see StepSignature.h).
    "::mlir::UnitAttr":$step,
    // On each kernel op: how the target runs it.
    "::llmc::tfm::KernelConfigAttrInterface":$kernel_config,
    // On each op: byte offset of each result in the arena (-1: none).
    "::mlir::DenseI64ArrayAttr":$arena_offsets,
    // On the module: the arena plan, the model facts.
    "::llmc::tfm::ArenaAttr":$arena,
    "::llmc::tfm::ModelAttr":$model
  );
  let hasOperationAttrVerify = 1;
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Transformer_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tfm_RopeScaling : I32EnumAttr<"RopeScaling", "rotary position scaling", [
    I32EnumAttrCase<"Default", 0, "default">,
    I32EnumAttrCase<"Linear", 1, "linear">,
    I32EnumAttrCase<"Llama3", 2, "llama3">,
    I32EnumAttrCase<"Dynamic", 3, "dynamic">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}

def Tfm_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "GELU formula", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Tanh", 1, "tanh">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_GeluApproximationAttr
    : EnumAttr<Transformer_Dialect, Tfm_GeluApproximation, "gelu_approximation"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tfm_Epilogue : I32EnumAttr<"Epilogue", "linear epilogue", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"SwiGLU", 1, "swiglu">,
    I32EnumAttrCase<"GELU", 2, "gelu">,
    I32EnumAttrCase<"GELUTanh", 3, "gelu_tanh">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_EpilogueAttr : EnumAttr<Transformer_Dialect, Tfm_Epilogue, "epilogue"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tfm_WeightTransform : I32EnumAttr<"WeightTransform",
    "how a packed weight is made from checkpoint tensors", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Transpose", 1, "transpose">,
    I32EnumAttrCase<"Concat", 2, "concat">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}

def Tfm_ParallelDim : I32EnumAttr<"ParallelDim",
    "the dimension of a kernel whose work items are split across threads", [
    I32EnumAttrCase<"Rows", 0, "rows">,
    I32EnumAttrCase<"Elements", 1, "elements">,
    I32EnumAttrCase<"OutputChannels", 2, "output_channels">,
    I32EnumAttrCase<"Heads", 3, "heads">,
    I32EnumAttrCase<"Columns", 4, "columns">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}

def Tfm_CUDAStrategy : I32EnumAttr<"CUDAStrategy",
    "how a CUDA kernel's threads map to its work items", [
    I32EnumAttrCase<"ThreadPerItem", 0, "thread_per_item">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}

def Tfm_ReduceKind : I32EnumAttr<"ReduceKind", "collective reduction", [
    I32EnumAttrCase<"Sum", 0, "sum">,
    I32EnumAttrCase<"Max", 1, "max">
  ]> {
  let cppNamespace = "::llmc::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_ReduceKindAttr : EnumAttr<Transformer_Dialect, Tfm_ReduceKind, "reduce"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERDIALECT_TD
