// RUN: llmc-opt %s -split-input-file -tfm-fuse-add-norm | FileCheck %s

// The residual add and the RMSNorm that reads it become one op; the sum
// replaces the add for its later users.
// CHECK-LABEL: func.func @rms(
// CHECK-SAME: %[[H:[a-z0-9]+]]: tensor<?x64xf32>, %[[O:[a-z0-9]+]]: tensor<?x64xf32>
// CHECK: %[[W:.*]] = tfm.weight "w"
// CHECK-NEXT: %[[SUM:.*]], %[[N:.*]] = tfm.add_rms_norm %[[H]], %[[O]], %[[W]] {eps = 9.9999999999999995E-7 : f64} : tensor<?x64xf32>, tensor<64xf32>
// CHECK-NOT: tfm.add
// CHECK-NOT: tfm.rms_norm
// CHECK: %[[Y:.*]] = tfm.silu %[[N]]
// CHECK: tfm.add %[[SUM]], %[[Y]]
func.func @rms(%h: tensor<?x64xf32>, %o: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %r = tfm.add %h, %o : tensor<?x64xf32>
  %w = tfm.weight "w" : tensor<64xf32>
  %n = tfm.rms_norm %r, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %y = tfm.silu %n : tensor<?x64xf32>
  %out = tfm.add %r, %y : tensor<?x64xf32>
  return %out : tensor<?x64xf32>
}

// -----

// CHECK-LABEL: func.func @layer
// CHECK: tfm.add_layer_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NOT: tfm.layer_norm
func.func @layer(%h: tensor<?x64xf32>, %o: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %r = tfm.add %h, %o : tensor<?x64xf32>
  %w = tfm.weight "w" : tensor<64xf32>
  %b = tfm.weight "b" : tensor<64xf32>
  %n = tfm.layer_norm %r, %w, %b {eps = 1.0e-5 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %r, %n : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Not fused: a norm of something else, and an add whose sum is used between
// the add and the norm (the fused op could not define it in time).
// CHECK-LABEL: func.func @kept
// CHECK: tfm.rms_norm %arg0
// CHECK: tfm.add
// CHECK: tfm.silu
// CHECK: tfm.rms_norm
// CHECK-NOT: add_rms_norm
func.func @kept(%h: tensor<?x64xf32>, %o: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = tfm.weight "w" : tensor<64xf32>
  %m = tfm.rms_norm %h, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %r = tfm.add %h, %o : tensor<?x64xf32>
  %s = tfm.silu %r : tensor<?x64xf32>
  %n = tfm.rms_norm %r, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %m, %s, %n : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}
