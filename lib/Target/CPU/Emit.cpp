//===- Emit.cpp - LLVM dialect kernels -> object -> shared library --------===//
#include "llmc/Target/CPU/Emit.h"

#include "schema/Artifact.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

namespace llmc {

static llvm::Error err(const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), msg);
}

static void optimize(llvm::Module &m, llvm::TargetMachine &tm,
                     unsigned optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel >= 3   ? llvm::OptimizationLevel::O3
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                                  : llvm::OptimizationLevel::O0;
  pb.buildPerModuleDefaultPipeline(level).run(m, mam);
}

llvm::Error compileKernelLibrary(ModuleOp module, llvm::StringRef soPath,
                                 llvm::StringRef cpuName, unsigned optLevel,
                                 llvm::StringRef digest) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::LLVMContext llvmCtx;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmCtx, "llmc_kernels");
  if (!llvmModule)
    return err("translating the kernels to LLVM IR failed");
  if (!digest.empty()) {
    llvm::Constant *text =
        llvm::ConstantDataArray::getString(llvmCtx, digest, /*AddNull=*/true);
    new llvm::GlobalVariable(*llvmModule, text->getType(), /*isConstant=*/true,
                             llvm::GlobalValue::ExternalLinkage, text,
                             schema::kLibraryDigestSymbol);
  }

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return err("no LLVM target for " + triple.str() + ": " + error);
  std::string cpu =
      cpuName == "native" ? llvm::sys::getHostCPUName().str() : cpuName.str();
  std::string features;
  if (cpuName == "native") {
    llvm::SubtargetFeatures f;
    for (const auto &[name, on] : llvm::sys::getHostCPUFeatures())
      f.AddFeature(name, on);
    features = f.getString();
  }
  llvm::TargetOptions topts;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, topts, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return err("cannot create an LLVM target machine for CPU '" + cpu + "'");
  if (!tm->getMCSubtargetInfo()->isCPUStringValid(cpu))
    return err("unknown CPU '" + cpu +
               "' (try native, x86-64, x86-64-v2, x86-64-v3, x86-64-v4)");
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(triple);
  optimize(*llvmModule, *tm, optLevel);

  llvm::SmallString<128> objPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("llmc_kernels", "o", objPath))
    return err("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObj(objPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(objPath, ec);
    if (ec)
      return err("cannot write " + objPath + ": " + ec.message());
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, out, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return err("the target cannot emit object files");
    codegen.run(*llvmModule);
  }

  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return err("no C compiler driver 'cc' on PATH to link the kernel library");
  llvm::SmallVector<llvm::StringRef> argv{*cc,    "-shared", "-o",
                                          soPath, objPath,   "-lm"};
  std::string linkError;
  int rc =
      llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &linkError);
  if (rc != 0)
    return err(llvm::formatv("linking {0} failed (exit {1}) {2}", soPath, rc,
                             linkError)
                   .str());
  return llvm::Error::success();
}

} // namespace llmc
