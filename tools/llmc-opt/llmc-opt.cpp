//===- llmc-opt.cpp - mlir-opt with the llmc dialects and passes
//-----------===//
#include "llmc/Conversion/Passes.h"
#include "llmc/Dialect/Transformer/IR/TransformerDialect.h"
#include "llmc/Dialect/Transformer/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  llmc::registerLLMCConversionPasses();
  llmc::registerLLMCTransformerPasses();

  mlir::DialectRegistry registry;
  registry.insert<llmc::tfm::TransformerDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
                  mlir::tensor::TensorDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "llmc optimizer driver (tfm dialect and llmc passes)\n",
      registry));
}
