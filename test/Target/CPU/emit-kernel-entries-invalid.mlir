// RUN: llmc-opt %s -llmc-cpu-emit-kernel-entries -verify-diagnostics

// expected-error @+1 {{'func.func' op is not lowered for the CPU (llmc-cpu-lower-kernels adds its work range)}}
func.func @unlowered(%a: memref<?xf32>, %b: memref<?xf32>) attributes {plan.kernel} {
  return
}
