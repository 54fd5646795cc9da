// RUN: llmc-opt %s -split-input-file -llmc-cpu-lower-kernels -verify-diagnostics

func.func @softmax_0(%a: memref<8x?xf32>, %b: memref<8x?xf32>) attributes {plan.kernel} {
  %x = plan.load %a : memref<8x?xf32> -> tensor<8x?xf32>
  // expected-error @+1 {{'tfm.softmax' op the loop lowering supports softmax on the last axis only}}
  %y = tfm.softmax %x {axis = 0 : i64, tfm.kernel_config = #tfm.cpu_kernel<parallel = rows, vector_width = 4>} : tensor<8x?xf32>
  plan.store %y, %b : tensor<8x?xf32> -> memref<8x?xf32>
  return
}

// -----

// A tfm op outside the kernel form (its operands from plan.load, its
// result to plan.store) has no lowering.
func.func @silu_0(%a: memref<?x8xf32>, %b: memref<?x8xf32>) attributes {plan.kernel} {
  %x = plan.load %a : memref<?x8xf32> -> tensor<?x8xf32>
  // expected-error @+1 {{'tfm.silu' op has no lowering to loops for the cpu target}}
  %y = tfm.silu %x {tfm.kernel_config = #tfm.cpu_kernel<parallel = elements, vector_width = 4>} : tensor<?x8xf32>
  %z = tfm.silu %y {tfm.kernel_config = #tfm.cpu_kernel<parallel = elements, vector_width = 4>} : tensor<?x8xf32>
  plan.store %z, %b : tensor<?x8xf32> -> memref<?x8xf32>
  return
}

// -----

// The configuration is the lowering's contract.
func.func @linear_0(%a: memref<?x8xf32>, %w: memref<4x8xf32>, %b: memref<?x4xf32>) attributes {plan.kernel} {
  %x = plan.load %a : memref<?x8xf32> -> tensor<?x8xf32>
  %wt = plan.load %w : memref<4x8xf32> -> tensor<4x8xf32>
  // expected-error @+1 {{'tfm.linear' op has no kernel configuration}}
  %y = tfm.linear %x, %wt : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  plan.store %y, %b : tensor<?x4xf32> -> memref<?x4xf32>
  return
}
