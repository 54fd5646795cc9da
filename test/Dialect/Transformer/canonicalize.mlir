// RUN: llmc-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32>)
// CHECK-NOT: tfm.reshape
// CHECK: return %[[X]]
func.func @reshape_identity(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %0 = tfm.reshape %x : tensor<4x16xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// CHECK-LABEL: func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK-NEXT: %[[R:.*]] = tfm.reshape %[[X]] : tensor<?x64xf32> -> tensor<?x2x32xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<?x64xf32>) -> tensor<?x2x32xf32> {
  %0 = tfm.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %1 = tfm.reshape %0 : tensor<?x4x16xf32> -> tensor<?x2x32xf32>
  return %1 : tensor<?x2x32xf32>
}

// -----

// A dynamic reshape to the same type may still change the split of the
// element count between dimensions: it must stay.
// CHECK-LABEL: func @reshape_dynamic_kept
// CHECK: tfm.reshape
func.func @reshape_dynamic_kept(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = tfm.reshape %x : tensor<?x64xf32> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func @transpose_identity
// CHECK-NOT: tfm.transpose
func.func @transpose_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = tfm.transpose %x {permutation = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func @transpose_inverse_pair
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NOT: tfm.transpose
// CHECK: return %[[X]]
func.func @transpose_inverse_pair(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = tfm.transpose %x {permutation = array<i64: 1, 2, 0>} : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = tfm.transpose %0 {permutation = array<i64: 2, 0, 1>} : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func @transpose_compose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = tfm.transpose %[[X]] {permutation = array<i64: 2, 1, 0>} : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_compose(%x: tensor<2x3x4xf32>) -> tensor<4x3x2xf32> {
  %0 = tfm.transpose %x {permutation = array<i64: 1, 0, 2>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = tfm.transpose %0 {permutation = array<i64: 2, 0, 1>} : tensor<3x2x4xf32> -> tensor<4x3x2xf32>
  return %1 : tensor<4x3x2xf32>
}

// -----

// CHECK-LABEL: func @transpose_kept
// CHECK: tfm.transpose %{{.*}} {permutation = array<i64: 1, 0>}
func.func @transpose_kept(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = tfm.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func @concat_single
// CHECK-NOT: tfm.concat
func.func @concat_single(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = tfm.concat %x {axis = 1 : i64} : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func @slice_whole
// CHECK-NOT: tfm.slice
func.func @slice_whole(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %0 = tfm.slice %x {axis = 1 : i64, start = 0 : i64, size = 32 : i64} : tensor<?x32xf32> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// CHECK-LABEL: func @slice_part_kept
// CHECK: tfm.slice
func.func @slice_part_kept(%x: tensor<?x32xf32>) -> tensor<?x16xf32> {
  %0 = tfm.slice %x {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

// Collectives have side effects: an unused all_reduce is not removed.
// CHECK-LABEL: func @all_reduce_kept
// CHECK: tfm.all_reduce
func.func @all_reduce_kept(%x: tensor<?x64xf32>) {
  %0 = tfm.all_reduce %x : tensor<?x64xf32>
  return
}
