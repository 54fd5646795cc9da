//===- Emit.cpp - NVVM kernels -> PTX, and cubin through ptxas ------------===//
#include "llmc/Target/CUDA/Emit.h"
#include "llmc/Target/CUDA/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>

using namespace mlir;

extern "C" {
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

namespace llmc {

static llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

/// The CUDA toolkit (for libdevice and ptxas): $CUDA_HOME, $CUDA_PATH, or
/// /usr/local/cuda; empty when none of them exists.
static std::string cudaToolkit() {
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *v = std::getenv(var);
        v && *v && llvm::sys::fs::is_directory(v))
      return v;
  if (llvm::sys::fs::is_directory("/usr/local/cuda"))
    return "/usr/local/cuda";
  return "";
}

std::string findPtxas() {
  if (const char *v = std::getenv("LLMC_PTXAS"); v && *v)
    return llvm::sys::fs::can_execute(v) ? std::string(v) : std::string();
  std::string toolkit = cudaToolkit();
  if (!toolkit.empty()) {
    llvm::SmallString<256> p(toolkit);
    llvm::sys::path::append(p, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(p))
      return std::string(p);
  }
  if (auto p = llvm::sys::findProgramByName("ptxas"))
    return *p;
  return "";
}

/// Reads ptxas -v: registers, stack and spills per entry function.
static std::map<std::string, PtxasKernelInfo>
parsePtxasInfo(llvm::StringRef text) {
  std::map<std::string, PtxasKernelInfo> out;
  llvm::Regex entry("Compiling entry function '([A-Za-z0-9_]+)'");
  llvm::Regex props("([0-9]+) bytes stack frame, ([0-9]+) bytes spill "
                    "stores, ([0-9]+) bytes spill loads");
  llvm::Regex regs("Used ([0-9]+) registers");
  std::string current;
  llvm::SmallVector<llvm::StringRef> lines, m;
  text.split(lines, '\n');
  for (llvm::StringRef line : lines) {
    if (entry.match(line, &m)) {
      current = m[1].str();
      out[current];
    } else if (!current.empty() && props.match(line, &m)) {
      PtxasKernelInfo &k = out[current];
      m[1].getAsInteger(10, k.stackBytes);
      m[2].getAsInteger(10, k.spillStores);
      m[3].getAsInteger(10, k.spillLoads);
    } else if (!current.empty() && regs.match(line, &m)) {
      m[1].getAsInteger(10, out[current].registers);
    }
  }
  return out;
}

llvm::Expected<CUDABinary> compileCUDAKernels(ModuleOp module,
                                              llvm::StringRef arch) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  ctx->appendDialectRegistry(registry);
  LLVMInitializeNVPTXTarget();
  LLVMInitializeNVPTXTargetInfo();
  LLVMInitializeNVPTXTargetMC();
  LLVMInitializeNVPTXAsmPrinter();

  // Serialize a copy: the plan in `module` keeps naming the gpu.module.
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
  PassManager pm(ctx);
  GpuModuleToBinaryPassOptions toBinary;
  toBinary.compilationTarget = "isa";
  toBinary.toolkitPath = cudaToolkit();
  pm.addPass(createGpuModuleToBinaryPass(toBinary));
  if (failed(pm.run(*copy)))
    return err("serializing the kernels to PTX failed (see above)");
  CUDABinary out;
  for (auto binary : copy->getOps<gpu::BinaryOp>())
    for (Attribute a : binary.getObjectsAttr())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        out.ptx += object.getObject().getValue().str();
  if (out.ptx.empty())
    return err("no PTX was produced (no gpu.module @" + kCUDAKernelModule +
               " to serialize)");

  out.ptxasPath = findPtxas();
  if (out.ptxasPath.empty())
    return out;
  llvm::SmallString<128> ptxPath, cubinPath, logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("llmc", "ptx", ptxPath))
    return err("cannot create a temporary file: " + ec.message());
  llvm::sys::fs::createTemporaryFile("llmc", "cubin", cubinPath);
  llvm::sys::fs::createTemporaryFile("llmc-ptxas", "log", logPath);
  auto cleanup = llvm::make_scope_exit([&] {
    llvm::sys::fs::remove(ptxPath);
    llvm::sys::fs::remove(cubinPath);
    llvm::sys::fs::remove(logPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(ptxPath, ec);
    if (ec)
      return err(ptxPath + ": cannot write: " + ec.message());
    os << out.ptx;
  }
  std::string archFlag = ("-arch=" + arch).str();
  llvm::SmallVector<llvm::StringRef> args = {
      out.ptxasPath, archFlag, "-O3", "-v", ptxPath, "-o", cubinPath};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(out.ptxasPath, args, std::nullopt,
                                     redirects, 0, 0, &error);
  std::string log;
  if (auto buf = llvm::MemoryBuffer::getFile(logPath))
    log = (*buf)->getBuffer().str();
  if (rc != 0)
    return err(out.ptxasPath + " -arch=" + arch + " failed" +
               (error.empty() ? "" : ": " + error) + "\n" + log);
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false);
  if (!cubin)
    return err("ptxas wrote no cubin: " + cubin.getError().message());
  out.cubin = (*cubin)->getBuffer().str();
  out.kernels = parsePtxasInfo(log);
  return out;
}

} // namespace llmc
