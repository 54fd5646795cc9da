// RUN: llmc-opt %s -split-input-file -tfm-merge-projections | FileCheck %s

// Q, K and V of one input become one linear over the stacked weight and a
// split; its recipe tells the runtime to stack the checkpoint tensors, each
// by its own recipe.
// CHECK-LABEL: func.func @qkv(
// CHECK-SAME: %[[X:.*]]: tensor<?x64xf32>
// CHECK-NEXT: %[[W:.*]] = tfm.weight "q+k+v", transform = concat, parts = [#tfm.recipe<"q" : tensor<64x64xf32>, sources = ["ckpt.q"]>, #tfm.recipe<"k" : tensor<32x64xf32>, transform = transpose>, #tfm.recipe<"v" : tensor<32x64xf32>>] : tensor<128x64xf32>
// CHECK-NEXT: %[[L:.*]] = tfm.linear %[[X]], %[[W]] : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
// CHECK-NEXT: %[[S:.*]]:3 = tfm.split %[[L]] {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
// CHECK-NOT: tfm.linear
// CHECK-NOT: tfm.weight
// CHECK: return %[[S]]#0, %[[S]]#1, %[[S]]#2
module {
  func.func @qkv(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
    %wq = tfm.weight "q", sources = ["ckpt.q"] : tensor<64x64xf32>
    %q = tfm.linear %x, %wq : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
    %wk = tfm.weight "k", transform = transpose : tensor<32x64xf32>
    %k = tfm.linear %x, %wk : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
    %wv = tfm.weight "v" : tensor<32x64xf32>
    %v = tfm.linear %x, %wv : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
    return %q, %k, %v : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  }
}

// -----

// Biases are stacked too; a weight still used elsewhere stays.
// CHECK-LABEL: func.func @biased
// CHECK: %[[G:.*]] = tfm.weight "g" : tensor<32x16xf32>
// CHECK: %[[W:.*]] = tfm.weight "g+u", transform = concat, parts = [#tfm.recipe<"g" : tensor<32x16xf32>>, #tfm.recipe<"u" : tensor<32x16xf32>>] : tensor<64x16xf32>
// CHECK: %[[B:.*]] = tfm.weight "gb+ub", transform = concat, parts = [#tfm.recipe<"gb" : tensor<32xf32>>, #tfm.recipe<"ub" : tensor<32xf32>>] : tensor<64xf32>
// CHECK: tfm.linear %{{.*}}, %[[W]], %[[B]]
// CHECK: tfm.split
// CHECK-NOT: tfm.weight
// CHECK: tfm.mul %[[G]], %[[G]]
func.func @biased(%x: tensor<?x16xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<32x16xf32>) {
  %g = tfm.weight "g" : tensor<32x16xf32>
  %gb = tfm.weight "gb" : tensor<32xf32>
  %a = tfm.linear %x, %g, %gb : (tensor<?x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  %u = tfm.weight "u" : tensor<32x16xf32>
  %ub = tfm.weight "ub" : tensor<32xf32>
  %c = tfm.linear %x, %u, %ub : (tensor<?x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  %sq = tfm.mul %g, %g : tensor<32x16xf32>
  return %a, %c, %sq : tensor<?x32xf32>, tensor<?x32xf32>, tensor<32x16xf32>
}

// -----

// Negative cases: different inputs, mixed bias presence, a computed weight,
// a weight that is a concatenation already.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: tfm.split
// CHECK-COUNT-6: tfm.linear
// CHECK-NOT: tfm.split
func.func @kept(%x: tensor<?x16xf32>, %y: tensor<?x16xf32>, %w2: tensor<8x16xf32>, %z: tensor<?x16xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %a = tfm.weight "a" : tensor<8x16xf32>
  %b = tfm.weight "b" : tensor<8x16xf32>
  %bb = tfm.weight "bb" : tensor<8xf32>
  %0 = tfm.linear %x, %a : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %1 = tfm.linear %y, %a : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %2 = tfm.linear %y, %b, %bb : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %3 = tfm.linear %x, %w2 : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %c = tfm.weight "c", transform = concat, parts = [#tfm.recipe<"c0" : tensor<4x16xf32>>, #tfm.recipe<"c1" : tensor<4x16xf32>>] : tensor<8x16xf32>
  %d = tfm.weight "d" : tensor<8x16xf32>
  %4 = tfm.linear %z, %c : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %5 = tfm.linear %z, %d : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
