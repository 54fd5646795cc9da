//===- TransformerAttrInterfaces.td - tfm attribute interfaces -*- tablegen -*-===//
#ifndef LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERATTRINTERFACES_TD
#define LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERATTRINTERFACES_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpBase.td"

def Tfm_KernelConfigAttrInterface : AttrInterface<"KernelConfigAttrInterface"> {
  let cppNamespace = "::llmc::tfm";
  let description = [{
    How a target runs one kernel op: what the target-neutral parts read
    (the plan's work items, the lowering's blocking) whatever the target.
    Each target has its own attribute (`#tfm.cpu_kernel`,
    `#tfm.cuda_kernel`) with its own further fields.
  }];
  let methods = [
    InterfaceMethod<"The dimension whose work items are split.",
      "::llmc::tfm::ParallelDim", "getParallel">,
    InterfaceMethod<"f32 lanes per vector.", "int64_t", "getVectorWidth">,
    InterfaceMethod<"Linear kernels: token rows per pass over k.",
      "int64_t", "getRowBlock">,
    InterfaceMethod<"Linear kernels: output channels per pass over k.",
      "int64_t", "getChannelBlock">,
    InterfaceMethod<"Linear kernels: token rows per tile (0: no tiling).",
      "int64_t", "getTileRows">,
  ];
}

#endif // LLMC_DIALECT_TRANSFORMER_IR_TRANSFORMERATTRINTERFACES_TD
