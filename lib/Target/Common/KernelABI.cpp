//===- KernelABI.cpp - memref descriptors from the runtime's arguments ----===//
#include "llmc/Target/Common/KernelABI.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;

namespace llmc {

Value buildDenseMemRef(OpBuilder &b, Location loc,
                       const LLVMTypeConverter &converter, MemRefType type,
                       Value base, llvm::function_ref<Value()> dynamicSize) {
  Type i64 = b.getI64Type();
  auto desc = MemRefDescriptor::poison(b, loc, converter.convertType(type));
  desc.setAllocatedPtr(b, loc, base);
  desc.setAlignedPtr(b, loc, base);
  desc.setConstantOffset(b, loc, 0);
  SmallVector<Value> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    dims.push_back(
        type.isDynamicDim(d)
            ? dynamicSize()
            : Value(LLVM::ConstantOp::create(b, loc, i64, type.getDimSize(d))));
  // Dense row-major strides.
  Value stride = LLVM::ConstantOp::create(b, loc, i64, 1);
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    desc.setSize(b, loc, d, dims[d]);
    desc.setStride(b, loc, d, stride);
    stride = LLVM::MulOp::create(b, loc, stride, dims[d]);
  }
  return UnrealizedConversionCastOp::create(b, loc, type, Value(desc))
      .getResult(0);
}

} // namespace llmc
