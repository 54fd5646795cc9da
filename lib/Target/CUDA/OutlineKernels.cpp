//===- OutlineKernels.cpp - kernels into a gpu.module with entries --------===//
#include "llmc/Dialect/Plan/IR/PlanOps.h"
#include "llmc/Target/CUDA/Passes.h"
#include "llmc/Target/Common/KernelABI.h"
#include "schema/Artifact.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace llmc {
#define GEN_PASS_DEF_CUDAOUTLINEKERNELS
#include "llmc/Target/CUDA/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;

namespace {

struct CUDAOutlineKernels
    : llmc::impl::CUDAOutlineKernelsBase<CUDAOutlineKernels> {
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
    if (kernels.empty())
      return;

    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule =
        gpu::GPUModuleOp::create(b, module.getLoc(), kCUDAKernelModule);
    SymbolTable deviceSymbols(gpuModule);

    // Globals the kernels read (constant tables) go along with them.
    llvm::SetVector<memref::GlobalOp> globals;
    for (func::FuncOp kernel : kernels)
      kernel.walk([&](memref::GetGlobalOp g) {
        if (auto global =
                SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
                    kernel, g.getNameAttr()))
          globals.insert(global);
      });
    for (memref::GlobalOp global : globals) {
      auto copy = cast<memref::GlobalOp>(global->clone());
      b.setInsertionPointToStart(gpuModule.getBody());
      b.insert(copy);
    }

    for (func::FuncOp kernel : kernels) {
      FunctionType fty = kernel.getFunctionType();
      Location loc = kernel.getLoc();
      // The launchable entry: one pointer per buffer, then the dynamic
      // sizes, buffer after buffer.
      SmallVector<Type> params(fty.getNumInputs(), ptr);
      for (Type t : fty.getInputs()) {
        auto m = dyn_cast<MemRefType>(t);
        if (!m) {
          kernel.emitOpError() << "takes a non-buffer argument " << t
                               << "; a CUDA kernel takes buffers only";
          return signalPassFailure();
        }
        for (int64_t d = 0; d < m.getRank(); ++d)
          if (m.isDynamicDim(d))
            params.push_back(i64);
      }
      b.setInsertionPointToEnd(gpuModule.getBody());
      auto entry = gpu::GPUFuncOp::create(
          b, loc, (schema::kKernelSymbolPrefix + kernel.getSymName()).str(),
          b.getFunctionType(params, {}));
      entry->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                     UnitAttr::get(ctx));
      Block &body = entry.getBody().front();
      b.setInsertionPointToStart(&body);
      SmallVector<Value> callArgs;
      unsigned nextSize = fty.getNumInputs();
      for (unsigned i = 0; i < fty.getNumInputs(); ++i) {
        auto type = cast<MemRefType>(fty.getInput(i));
        callArgs.push_back(
            buildDenseMemRef(b, loc, converter, type, body.getArgument(i),
                             [&] { return body.getArgument(nextSize++); }));
      }
      // The kernel's body follows, on the descriptors (lowered kernels
      // are one block of structured loops).
      if (!kernel.getBody().hasOneBlock()) {
        kernel.emitOpError() << "has more than one block; lowered kernels "
                                "are one block of structured loops";
        return signalPassFailure();
      }
      IRMapping map;
      for (auto [arg, value] :
           llvm::zip(kernel.getBody().front().getArguments(), callArgs))
        map.map(arg, value);
      for (Operation &op : kernel.getBody().front().without_terminator())
        b.clone(op, map);
      gpu::ReturnOp::create(b, loc);
      kernel.erase();
    }

    // The plan launches the entries.
    module.walk([&](plan::LaunchOp launch) {
      SymbolRefAttr k = launch.getKernelAttr();
      if (!k.getNestedReferences().empty())
        return;
      std::string entry =
          std::string(schema::kKernelSymbolPrefix) + k.getRootReference().str();
      launch.setKernelAttr(
          SymbolRefAttr::get(StringAttr::get(ctx, kCUDAKernelModule),
                             {FlatSymbolRefAttr::get(ctx, entry)}));
    });
  }
};

} // namespace
