//===- TargetInfo.cpp - the CUDA target's work mapping --------------------===//
#include "llmc/Target/CUDA/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;

namespace llmc {

std::pair<Value, Value> CUDATargetInfo::getWorkRange(OpBuilder &b, Location loc,
                                                     func::FuncOp,
                                                     Value extent) const {
  Value block = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value threads = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  Value thread = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value item = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, block, threads), thread);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  // Threads past the extent (the last block's tail) compute nothing.
  return {arith::MinUIOp::create(b, loc, item, extent),
          arith::MinUIOp::create(
              b, loc, arith::AddIOp::create(b, loc, item, one), extent)};
}

} // namespace llmc
