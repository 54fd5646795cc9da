//===- EmitEntries.cpp - one calling convention for every CPU kernel ------===//
#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Target/CPU/Passes.h"
#include "llmc/Target/Common/KernelABI.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/IR/Builders.h"

namespace llmc {
#define GEN_PASS_DEF_CPUEMITKERNELENTRIES
#include "llmc/Target/CPU/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct CPUEmitKernelEntries
    : llmc::impl::CPUEmitKernelEntriesBase<CPUEmitKernelEntries> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    LLVMTypeConverter converter(ctx);
    OpBuilder b(ctx);
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    Type i64 = b.getI64Type();

    SmallVector<func::FuncOp> kernels;
    for (auto func : module.getOps<func::FuncOp>())
      if (plan::isKernel(func))
        kernels.push_back(func);
    for (func::FuncOp kernel : kernels) {
      FunctionType fty = kernel.getFunctionType();
      unsigned buffers = fty.getNumInputs() - 2;
      if (fty.getNumInputs() < 2 || !fty.getInput(buffers).isIndex() ||
          !fty.getInput(buffers + 1).isIndex()) {
        kernel.emitOpError()
            << "is not lowered for the CPU (llmc-cpu-lower-kernels adds its "
               "work range)";
        return signalPassFailure();
      }
      Location loc = kernel.getLoc();
      b.setInsertionPointAfter(kernel);
      auto entry = func::FuncOp::create(
          b, loc, (schema::kKernelSymbolPrefix + kernel.getSymName()).str(),
          b.getFunctionType({ptr, ptr, i64, i64}, {}));
      Block *body = entry.addEntryBlock();
      b.setInsertionPointToStart(body);
      Value args = body->getArgument(0), sizes = body->getArgument(1);
      auto loadAt = [&](Value base, Type elem, int32_t i) -> Value {
        Value slot = LLVM::GEPOp::create(b, loc, ptr, elem, base,
                                         ArrayRef<LLVM::GEPArg>{i});
        return LLVM::LoadOp::create(b, loc, elem, slot);
      };
      SmallVector<Value> callArgs;
      int32_t nextSize = 0;
      for (unsigned i = 0; i < buffers; ++i) {
        auto type = cast<MemRefType>(fty.getInput(i));
        Value base = loadAt(args, ptr, static_cast<int32_t>(i));
        callArgs.push_back(buildDenseMemRef(b, loc, converter, type, base, [&] {
          return loadAt(sizes, i64, nextSize++);
        }));
      }
      for (unsigned i = 2; i < 4; ++i)
        callArgs.push_back(arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                                      body->getArgument(i)));
      func::CallOp::create(b, loc, kernel, callArgs);
      func::ReturnOp::create(b, loc);
      // Only the entry is exported; the kernel itself gets inlined.
      kernel.setPrivate();
      kernel->setAttr("llvm.linkage",
                      LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
    }
  }
};

} // namespace
