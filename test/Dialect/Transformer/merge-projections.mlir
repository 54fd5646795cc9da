// RUN: llmc-opt %s -split-input-file -tfm-merge-projections | FileCheck %s

// Q, K and V of one input become one linear over the stacked weight and a
// split; the recipe tells the runtime to stack the checkpoint tensors.
// CHECK: llmc.weights = [{name = "q", sources = ["ckpt.q"], transform = "none"}, {name = "q+k+v", parts = [{name = "q", shape = [64, 64], sources = ["ckpt.q"], transform = "none"}, {name = "k", shape = [32, 64], sources = ["k"], transform = "none"}, {name = "v", shape = [32, 64], sources = ["v"], transform = "none"}], transform = "concat"}]
// CHECK-LABEL: func.func @qkv(
// CHECK-SAME: %[[X:.*]]: tensor<?x64xf32>
// CHECK-NEXT: %[[W:.*]] = tfm.weight "q+k+v" : tensor<128x64xf32>
// CHECK-NEXT: %[[L:.*]] = tfm.linear %[[X]], %[[W]] : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
// CHECK-NEXT: %[[S:.*]]:3 = tfm.split %[[L]] {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
// CHECK-NOT: tfm.linear
// CHECK-NOT: tfm.weight
// CHECK: return %[[S]]#0, %[[S]]#1, %[[S]]#2
module attributes {llmc.weights = [{name = "q", sources = ["ckpt.q"], transform = "none"}]} {
  func.func @qkv(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
    %wq = tfm.weight "q" : tensor<64x64xf32>
    %q = tfm.linear %x, %wq : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
    %wk = tfm.weight "k" : tensor<32x64xf32>
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
// CHECK: %[[W:.*]] = tfm.weight "g+u" : tensor<64x16xf32>
// CHECK: %[[B:.*]] = tfm.weight "gb+ub" : tensor<64xf32>
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

// Negative cases: different inputs, mixed bias presence, a computed weight.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: tfm.split
// CHECK-COUNT-4: tfm.linear
// CHECK-NOT: tfm.split
func.func @kept(%x: tensor<?x16xf32>, %y: tensor<?x16xf32>, %w2: tensor<8x16xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) {
  %a = tfm.weight "a" : tensor<8x16xf32>
  %b = tfm.weight "b" : tensor<8x16xf32>
  %bb = tfm.weight "bb" : tensor<8xf32>
  %0 = tfm.linear %x, %a : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %1 = tfm.linear %y, %a : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %2 = tfm.linear %y, %b, %bb : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %3 = tfm.linear %x, %w2 : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  return %0, %1, %2, %3 : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>
}
