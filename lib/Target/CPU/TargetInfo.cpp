//===- TargetInfo.cpp - the CPU's features and work ranges ----------------===//
#include "llmc/Target/CPU/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace llmc {

CPUFeatures CPUFeatures::get(llvm::StringRef cpu) {
  auto from = [](bool avx512, bool avx) {
    CPUFeatures f;
    f.vectorRegisters = avx512 ? 32 : 16;
    f.vectorWidth = avx512 ? 16 : avx ? 8 : 4;
    return f;
  };
  if (cpu == "native") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    return from(host.lookup("avx512f"), host.lookup("avx"));
  }
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return CPUFeatures();
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, cpu, ""));
  if (!sti || !sti->isCPUStringValid(cpu))
    return CPUFeatures();
  return from(sti->checkFeatures("+avx512f"), sti->checkFeatures("+avx"));
}

void CPUTargetInfo::prepareKernel(func::FuncOp kernel) const {
  Type index = IndexType::get(kernel.getContext());
  unsigned n = kernel.getNumArguments();
  Location loc = kernel.getLoc();
  (void)kernel.insertArguments({n, n}, {index, index}, {{}, {}}, {loc, loc});
}

std::pair<Value, Value> CPUTargetInfo::getWorkRange(OpBuilder &b, Location loc,
                                                    func::FuncOp kernel,
                                                    Value extent) const {
  unsigned n = kernel.getNumArguments();
  Value begin = kernel.getArgument(n - 2), end = kernel.getArgument(n - 1);
  // Clamped: a range past the extent (a hostile plan) computes nothing
  // out of bounds.
  return {arith::MinUIOp::create(b, loc, begin, extent),
          arith::MinUIOp::create(b, loc, end, extent)};
}

std::pair<int64_t, int64_t> chooseLinearBlocking(int64_t weightRows,
                                                 int64_t registers,
                                                 int64_t weightLoadCost) {
  std::pair<int64_t, int64_t> best{1, 1};
  double bestRatio = 0;
  for (int64_t r : {1, 2, 4, 8})
    for (int64_t q : {1, 2, 4}) {
      int64_t c = weightRows;
      if (r * q * c + q * c + 1 > registers)
        continue;
      double ratio = static_cast<double>(r * q * c) /
                     static_cast<double>(weightLoadCost * q * c + r);
      if (ratio > bestRatio + 1e-9 ||
          (ratio > bestRatio - 1e-9 && r > best.first)) {
        bestRatio = ratio;
        best = {r, q};
      }
    }
  return best;
}

int64_t chooseTileRows(int64_t k, int64_t rowBlock) {
  constexpr int64_t kTileBytes = 128 * 1024;
  int64_t rows = kTileBytes / (4 * std::max<int64_t>(k, 1));
  return std::max(rowBlock, rows / rowBlock * rowBlock);
}

} // namespace llmc
