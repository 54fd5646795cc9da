// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The row-reduction family: RMSNorm, LayerNorm, their fused residual-add
// forms, softmax. Each input row is one work item.

// RMSNorm: per row of this invocation's rows [begin, end) (clamped to the
// row count), the sum of squares, then weight * (x * rsqrt(mean + eps)).
// The kernel's buffers are its arguments, then the work range.
// CHECK-LABEL: func.func @rms_norm_0(%arg0: memref<?x16xf32>, %arg1: memref<16xf32>, %arg2: memref<?x16xf32>, %arg3: index, %arg4: index) attributes {plan.kernel}
// CHECK: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: %[[N:.*]] = arith.constant 1.600000e+01 : f32
// CHECK: %[[ROWS:.*]] = memref.dim %arg0, %c0
// CHECK: %[[B:.*]] = arith.minui %arg3, %[[ROWS]]
// CHECK: %[[E:.*]] = arith.minui %arg4, %[[ROWS]]
// CHECK: scf.for %[[R:.*]] = %[[B]] to %[[E]] step %c1 {
// CHECK:   %[[SQ:.*]] = scf.for %[[J:.*]] = %c0 to %c16 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:     %[[V:.*]] = memref.load %arg0[%[[R]], %[[J]]]
// CHECK:     %[[V2:.*]] = arith.mulf %[[V]], %[[V]]
// CHECK:     %[[S:.*]] = arith.addf %[[ACC]], %[[V2]]
// CHECK:     scf.yield %[[S]]
// CHECK:   %[[MEAN:.*]] = arith.divf %[[SQ]], %[[N]]
// CHECK:   %[[ME:.*]] = arith.addf %[[MEAN]], %[[EPS]]
// CHECK:   %[[INV:.*]] = math.rsqrt %[[ME]]
// CHECK:   scf.for %[[J2:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[XV:.*]] = memref.load %arg0[%[[R]], %[[J2]]]
// CHECK:     %[[XN:.*]] = arith.mulf %[[XV]], %[[INV]]
// CHECK:     %[[WV:.*]] = memref.load %arg1[%[[J2]]] : memref<16xf32>
// CHECK:     %[[Y:.*]] = arith.mulf %[[WV]], %[[XN]]
// CHECK:     memref.store %[[Y]], %arg2[%[[R]], %[[J2]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "norm" : tensor<16xf32>
  %n = tfm.rms_norm %h, %w {eps = 1.0e-5 : f64} : tensor<?x16xf32>, tensor<16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// LayerNorm: the mean, the biased variance, then weight * norm + bias.
// CHECK-LABEL: func.func @layer_norm_0
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[SUM:.*]] = scf.for %[[J:.*]] = %c0 to %c16 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:     %[[V:.*]] = memref.load %[[X:.*]][%[[R]], %[[J]]]
// CHECK:     arith.addf %[[ACC]], %[[V]]
// CHECK:   %[[MEAN:.*]] = arith.divf %[[SUM]], %{{.*}}
// CHECK:   %[[SQ:.*]] = scf.for
// CHECK:     %[[V:.*]] = memref.load %[[X]][%[[R]], %{{.*}}]
// CHECK:     %[[D:.*]] = arith.subf %[[V]], %[[MEAN]]
// CHECK:     %[[D2:.*]] = arith.mulf %[[D]], %[[D]]
// CHECK:     arith.addf %{{.*}}, %[[D2]]
// CHECK:   %[[VAR:.*]] = arith.divf %[[SQ]], %{{.*}}
// CHECK:   %[[VE:.*]] = arith.addf %[[VAR]], %{{.*}}
// CHECK:   %[[INV:.*]] = math.rsqrt %[[VE]]
// CHECK:   scf.for %[[J2:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[XV:.*]] = memref.load %[[X]][%[[R]], %[[J2]]]
// CHECK:     %[[XC:.*]] = arith.subf %[[XV]], %[[MEAN]]
// CHECK:     %[[XN:.*]] = arith.mulf %[[XC]], %[[INV]]
// CHECK:     %[[WV:.*]] = memref.load %{{.*}}[%[[J2]]] : memref<16xf32>
// CHECK:     %[[Y:.*]] = arith.mulf %[[WV]], %[[XN]]
// CHECK:     %[[BV:.*]] = memref.load %{{.*}}[%[[J2]]] : memref<16xf32>
// CHECK:     %[[YB:.*]] = arith.addf %[[Y]], %[[BV]]
// CHECK:     memref.store %[[YB]], %{{.*}}[%[[R]], %[[J2]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "ln.w" : tensor<16xf32>
  %b = tfm.weight "ln.b" : tensor<16xf32>
  %n = tfm.layer_norm %h, %w, %b {eps = 1.0e-5 : f64} : tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// The fused residual add: each row's sum is written first (result #0, the
// kernel's first result buffer), then normalized from there (result #1),
// in the same row loop.
// CHECK-LABEL: func.func @add_rms_norm_0
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[A:.*]] = memref.load %[[IN:.*]][%[[R]], %[[J]]]
// CHECK:     %[[S:.*]] = arith.addf %[[A]], %[[A]]
// CHECK:     memref.store %[[S]], %[[SUM:.*]][%[[R]], %[[J]]]
// CHECK:   scf.for {{.*}} iter_args
// CHECK:     memref.load %[[SUM]][%[[R]], %{{.*}}]
// CHECK:   math.rsqrt
// CHECK:   scf.for
// CHECK:     memref.load %[[SUM]][%[[R]], %{{.*}}]
// CHECK:     memref.store %{{.*}}, %[[NORMED:.*]][%[[R]], %{{.*}}]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "norm" : tensor<16xf32>
  %s, %n = tfm.add_rms_norm %h, %h, %w {eps = 1.0e-5 : f64} : tensor<?x16xf32>, tensor<16xf32>
  %o = tfm.add %s, %n : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// CHECK-LABEL: func.func @add_layer_norm_0
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c16 step %c1 {
// CHECK:     arith.addf
// CHECK:     memref.store %{{.*}}, %[[SUM:.*]][%[[R]], %[[J]]]
// CHECK:   scf.for {{.*}} iter_args
// CHECK:     memref.load %[[SUM]]
// CHECK:   arith.divf
// CHECK:   scf.for {{.*}} iter_args
// CHECK:     arith.subf
// CHECK:   math.rsqrt
// CHECK:   scf.for
// CHECK:     arith.subf
// CHECK:     arith.mulf
// CHECK:     arith.mulf
// CHECK:     arith.addf
// CHECK:     memref.store

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "ln.w" : tensor<16xf32>
  %b = tfm.weight "ln.b" : tensor<16xf32>
  %s, %n = tfm.add_layer_norm %h, %h, %w, %b {eps = 1.0e-5 : f64} : tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>
  %o = tfm.add %s, %n : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Softmax on the last axis: the row maximum, exp(x - max) stored and
// summed, then divided in place.
// CHECK-LABEL: func.func @softmax_0
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[M:.*]] = scf.for %[[J:.*]] = %c0 to %c16 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:     %[[V:.*]] = memref.load %[[X:.*]][%[[R]], %[[J]]]
// CHECK:     arith.maximumf %[[ACC]], %[[V]]
// CHECK:   %[[SUM:.*]] = scf.for %[[J2:.*]] = %c0 to %c16 step %c1 iter_args(%[[ACC2:.*]] = %{{.*}}) -> (f32) {
// CHECK:     %[[V2:.*]] = memref.load %[[X]][%[[R]], %[[J2]]]
// CHECK:     %[[D:.*]] = arith.subf %[[V2]], %[[M]]
// CHECK:     %[[E:.*]] = math.exp %[[D]]
// CHECK:     memref.store %[[E]], %[[OUT:.*]][%[[R]], %[[J2]]]
// CHECK:     arith.addf %[[ACC2]], %[[E]]
// CHECK:   scf.for %[[J3:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[O:.*]] = memref.load %[[OUT]][%[[R]], %[[J3]]]
// CHECK:     %[[Q:.*]] = arith.divf %[[O]], %[[SUM]]
// CHECK:     memref.store %[[Q]], %[[OUT]][%[[R]], %[[J3]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.softmax %h {axis = 1 : i64} : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
