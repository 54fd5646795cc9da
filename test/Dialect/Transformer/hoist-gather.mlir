// RUN: llmc-opt %s -split-input-file -tfm-hoist-gather | FileCheck %s

// The final norm and the LM head run on the gathered rows only.
// CHECK-LABEL: func.func @head(
// CHECK-SAME: %[[H:[a-z0-9]+]]: tensor<?x64xf32>, %[[IDX:[a-z0-9]+]]: tensor<?xi32>
// CHECK: %[[G:.*]] = tfm.gather_last_tokens %[[H]], %[[IDX]] : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
// CHECK: %[[N:.*]] = tfm.rms_norm %[[G]]
// CHECK: %[[L:.*]] = tfm.linear %[[N]], %{{.*}} : (tensor<?x64xf32>, tensor<512x64xf32>) -> tensor<?x512xf32>
// CHECK-NOT: tfm.gather_last_tokens
// CHECK: return %[[L]]
func.func @head(%h: tensor<?x64xf32>, %idx: tensor<?xi32>) -> tensor<?x512xf32> {
  %nw = tfm.weight "norm" : tensor<64xf32>
  %n = tfm.rms_norm %h, %nw {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %w = tfm.weight "head" : tensor<512x64xf32>
  %l = tfm.linear %n, %w : (tensor<?x64xf32>, tensor<512x64xf32>) -> tensor<?x512xf32>
  %g = tfm.gather_last_tokens %l, %idx : (tensor<?x512xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  return %g : tensor<?x512xf32>
}

// -----

// Static token counts: the hoisted ops take the gathered row count.
// CHECK-LABEL: func.func @static_rows
// CHECK: tfm.gather_last_tokens %{{.*}}, %{{.*}} : (tensor<8x64xf32>, tensor<2xi32>) -> tensor<2x64xf32>
// CHECK: tfm.silu %{{.*}} : tensor<2x64xf32>
func.func @static_rows(%h: tensor<8x64xf32>, %idx: tensor<2xi32>) -> tensor<2x64xf32> {
  %s = tfm.silu %h : tensor<8x64xf32>
  %g = tfm.gather_last_tokens %s, %idx : (tensor<8x64xf32>, tensor<2xi32>) -> tensor<2x64xf32>
  return %g : tensor<2x64xf32>
}

// -----

// Stays put: the norm has another user, and a residual linear mixes in a
// second full-height operand.
// CHECK-LABEL: func.func @kept
// CHECK: tfm.rms_norm %arg0
// CHECK: tfm.gather_last_tokens
// CHECK-LABEL: func.func @residual
// CHECK: tfm.linear {{.*}} residual
// CHECK-NEXT: tfm.gather_last_tokens
func.func @kept(%h: tensor<?x64xf32>, %idx: tensor<?xi32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %nw = tfm.weight "norm" : tensor<64xf32>
  %n = tfm.rms_norm %h, %nw {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %g = tfm.gather_last_tokens %n, %idx : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  return %g, %n : tensor<?x64xf32>, tensor<?x64xf32>
}
func.func @residual(%h: tensor<?x64xf32>, %r: tensor<?x64xf32>, %idx: tensor<?xi32>) -> tensor<?x64xf32> {
  %w = tfm.weight "w" : tensor<64x64xf32>
  %l = tfm.linear %h, %w residual(%r) : (tensor<?x64xf32>, tensor<64x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %g = tfm.gather_last_tokens %l, %idx : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  return %g : tensor<?x64xf32>
}
