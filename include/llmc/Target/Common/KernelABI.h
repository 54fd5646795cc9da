//===- KernelABI.h - memref descriptors from the runtime's arguments -*-===//
//
// Both targets' kernel entries receive each buffer as a bare base pointer
// and the buffers' dynamic sizes (CPU: in arrays; CUDA: as parameters) and
// rebuild the memref descriptor the lowered kernel takes: dense,
// row-major, offset 0.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_TARGET_COMMON_KERNELABI_H
#define LLMC_TARGET_COMMON_KERNELABI_H

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/IR/Builders.h"

namespace llmc {

/// A value of `type` (a memref) for the buffer at `base`; `dynamicSize()`
/// gives the next dynamic dimension's size (an i64), in order.
mlir::Value buildDenseMemRef(mlir::OpBuilder &b, mlir::Location loc,
                             const mlir::LLVMTypeConverter &converter,
                             mlir::MemRefType type, mlir::Value base,
                             llvm::function_ref<mlir::Value()> dynamicSize);

} // namespace llmc

#endif // LLMC_TARGET_COMMON_KERNELABI_H
