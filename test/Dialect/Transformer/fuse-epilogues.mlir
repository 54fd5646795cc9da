// RUN: llmc-opt %s -split-input-file -tfm-fuse-epilogues | FileCheck %s

// silu(gate) * up over the halves of one linear -> the swiglu epilogue.
// CHECK-LABEL: func.func @swiglu(
// CHECK-SAME: %[[X:.*]]: tensor<?x64xf32>
// CHECK: %[[W:.*]] = tfm.weight "gate+up" : tensor<352x64xf32>
// CHECK-NEXT: %[[Y:.*]] = tfm.linear %[[X]], %[[W]] {epilogue = #tfm.epilogue<swiglu>} : (tensor<?x64xf32>, tensor<352x64xf32>) -> tensor<?x176xf32>
// CHECK-NEXT: return %[[Y]]
func.func @swiglu(%x: tensor<?x64xf32>) -> tensor<?x176xf32> {
  %w = tfm.weight "gate+up" : tensor<352x64xf32>
  %l = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<352x64xf32>) -> tensor<?x352xf32>
  %s:2 = tfm.split %l {axis = 1 : i64} : tensor<?x352xf32> -> tensor<?x176xf32>, tensor<?x176xf32>
  %g = tfm.silu %s#0 : tensor<?x176xf32>
  %m = tfm.mul %g, %s#1 : tensor<?x176xf32>
  return %m : tensor<?x176xf32>
}

// -----

// GELU in both forms.
// CHECK-LABEL: func.func @gelu
// CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} {epilogue = #tfm.epilogue<gelu_tanh>}
// CHECK: tfm.linear %{{.*}}, %{{.*}} {epilogue = #tfm.epilogue<gelu>}
// CHECK-NOT: tfm.gelu
func.func @gelu(%x: tensor<?x64xf32>) -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %w = tfm.weight "fc" : tensor<256x64xf32>
  %b = tfm.weight "fc_b" : tensor<256xf32>
  %l = tfm.linear %x, %w, %b : (tensor<?x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<?x256xf32>
  %g = tfm.gelu %l {approximation = #tfm.gelu_approximation<tanh>} : tensor<?x256xf32>
  %l2 = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<256x64xf32>) -> tensor<?x256xf32>
  %g2 = tfm.gelu %l2 : tensor<?x256xf32>
  return %g, %g2 : tensor<?x256xf32>, tensor<?x256xf32>
}

// -----

// Not fused: the linear's output is used elsewhere; unequal halves; the
// silu is on the second half.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: epilogue
func.func @kept(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x128xf32>, tensor<?x32xf32>, tensor<?x64xf32>) {
  %w = tfm.weight "w" : tensor<128x64xf32>
  %l = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %s:2 = tfm.split %l {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x64xf32>
  %g = tfm.silu %s#0 : tensor<?x64xf32>
  %m = tfm.mul %g, %s#1 : tensor<?x64xf32>
  %w2 = tfm.weight "w2" : tensor<96x64xf32>
  %l2 = tfm.linear %x, %w2 : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x96xf32>
  %s2:2 = tfm.split %l2 {axis = 1 : i64} : tensor<?x96xf32> -> tensor<?x32xf32>, tensor<?x64xf32>
  %g2 = tfm.silu %s2#0 : tensor<?x32xf32>
  %l3 = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %s3:2 = tfm.split %l3 {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x64xf32>
  %g3 = tfm.silu %s3#1 : tensor<?x64xf32>
  %m3 = tfm.mul %s3#0, %g3 : tensor<?x64xf32>
  return %m, %l, %g2, %m3 : tensor<?x64xf32>, tensor<?x128xf32>, tensor<?x32xf32>, tensor<?x64xf32>
}

// -----

// A residual add into the linear that feeds it (either operand order).
// CHECK-LABEL: func.func @residual(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x64xf32>, %[[H:[a-z0-9]+]]: tensor<?x64xf32>
// CHECK: %[[Y:.*]] = tfm.linear %[[X]], %{{.*}} residual(%[[H]]) : (tensor<?x64xf32>, tensor<64x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK: tfm.linear %[[X]], %{{.*}} residual(%[[Y]]) {epilogue = #tfm.epilogue<gelu>}
// CHECK-NOT: tfm.add
func.func @residual(%x: tensor<?x64xf32>, %h: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = tfm.weight "w" : tensor<64x64xf32>
  %l = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %r = tfm.add %h, %l : tensor<?x64xf32>
  %l2 = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %g = tfm.gelu %l2 : tensor<?x64xf32>
  %r2 = tfm.add %g, %r : tensor<?x64xf32>
  return %r2 : tensor<?x64xf32>
}
