// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The shape family: reshape (a view), transpose, concat, split, slice. The
// work items are the output's rows (the input's for a split).

// A slice copies its column range of this invocation's rows.
// CHECK-LABEL: func.func @slice_0(%arg0: memref<?x16xf32>, %arg1: memref<?x8xf32>, %arg2: index, %arg3: index)
// CHECK: %[[ROWS:.*]] = memref.dim %arg1, %c0
// CHECK: %[[B:.*]] = arith.minui %arg2, %[[ROWS]]
// CHECK: %[[E:.*]] = arith.minui %arg3, %[[ROWS]]
// CHECK: scf.for %[[R:.*]] = %[[B]] to %[[E]] step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c8 step %c1 {
// CHECK:     %[[SJ:.*]] = arith.addi %[[J]], %c4
// CHECK:     %[[V:.*]] = memref.load %arg0[%[[R]], %[[SJ]]]
// CHECK:     memref.store %[[V]], %arg1[%[[R]], %[[J]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %a = tfm.slice %h {axis = 1 : i64, start = 4 : i64, size = 8 : i64} : tensor<?x16xf32> -> tensor<?x8xf32>
  %n = tfm.concat %a, %a {axis = 1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// A split is one copy per part, in the same kernel (over the input's rows);
// a concat writes each input at its offset along the axis.
// CHECK-LABEL: func.func @split_0
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c4 step %c1 {
// CHECK:     %[[V:.*]] = memref.load %[[IN:.*]][%[[R]], %[[J]]]
// CHECK:     memref.store %[[V]], %[[P0:.*]][%[[R]], %[[J]]]
// CHECK: scf.for %[[R2:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J2:.*]] = %c0 to %c12 step %c1 {
// CHECK:     %[[SJ:.*]] = arith.addi %[[J2]], %c4
// CHECK:     %[[V2:.*]] = memref.load %[[IN]][%[[R2]], %[[SJ]]]
// CHECK:     memref.store %[[V2]], %[[P1:.*]][%[[R2]], %[[J2]]]
// CHECK-LABEL: func.func @concat_0
// CHECK: scf.for %[[R3:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J3:.*]] = %c0 to %c12 step %c1 {
// CHECK:     %[[V3:.*]] = memref.load %arg0[%[[R3]], %[[J3]]]
// CHECK:     memref.store %[[V3]], %[[OUT:.*]][%[[R3]], %[[J3]]]
// CHECK: scf.for %[[R4:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J4:.*]] = %c0 to %c4 step %c1 {
// CHECK:     %[[DJ:.*]] = arith.addi %[[J4]], %c12
// CHECK:     %[[V4:.*]] = memref.load %arg1[%[[R4]], %[[J4]]]
// CHECK:     memref.store %[[V4]], %[[OUT]][%[[R4]], %[[DJ]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %p:2 = tfm.split %h {axis = 1 : i64} : tensor<?x16xf32> -> tensor<?x4xf32>, tensor<?x12xf32>
  %n = tfm.concat %p#1, %p#0 {axis = 1 : i64} : (tensor<?x12xf32>, tensor<?x4xf32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// A reshape is a view: no kernel, the transpose reads the reshaped buffer
// (convert-tfm-to-plan gives it the same arena offset) at the permuted
// index.
// CHECK-NOT: func.func @reshape
// CHECK-LABEL: func.func @transpose_0(%arg0: memref<?x2x8xf32>, %arg1: memref<?x8x2xf32>, %arg2: index, %arg3: index)
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[I:.*]] = %c0 to %c8 step %c1 {
// CHECK:     scf.for %[[J:.*]] = %c0 to %c2 step %c1 {
// CHECK:       %[[X:.*]] = memref.load %arg0[%[[R]], %[[J]], %[[I]]]
// CHECK:       memref.store %[[X]], %arg1[%[[R]], %[[I]], %[[J]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %r = tfm.reshape %h : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %t = tfm.transpose %r {permutation = array<i64: 0, 2, 1>} : tensor<?x2x8xf32> -> tensor<?x8x2xf32>
  %f = tfm.reshape %t : tensor<?x8x2xf32> -> tensor<?x16xf32>
  %n = tfm.add %f, %f : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Concatenating along the rows: each input copies the rows of this
// invocation's range that fall in its own, shifted by its offset.
// CHECK-LABEL: func.func @concat_0(%arg0: memref<4x16xf32>, %arg1: memref<8x16xf32>, %arg2: index, %arg3: index)
// CHECK: %[[B:.*]] = arith.minui %arg2, %c8
// CHECK: %[[E:.*]] = arith.minui %arg3, %c8
// CHECK: %[[B0:.*]] = arith.maxsi %[[B]], %c0
// CHECK: %[[B1:.*]] = arith.minsi %[[B0]], %c4
// CHECK: %[[E0:.*]] = arith.maxsi %[[E]], %c0
// CHECK: %[[E1:.*]] = arith.minsi %[[E0]], %c4
// CHECK: scf.for %[[R:.*]] = %[[B1]] to %[[E1]] step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[V:.*]] = memref.load %arg0[%[[R]], %[[J]]]
// CHECK:     memref.store %[[V]], %arg1[%[[R]], %[[J]]]
// CHECK: %[[SB:.*]] = arith.subi %[[B]], %c4
// CHECK: %[[SE:.*]] = arith.subi %[[E]], %c4
// CHECK: scf.for %[[R2:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J2:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[DR:.*]] = arith.addi %[[R2]], %c4
// CHECK:     %[[V2:.*]] = memref.load %arg0[%[[R2]], %[[J2]]]
// CHECK:     memref.store %[[V2]], %arg1[%[[DR]], %[[J2]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "c" : tensor<4x16xf32>
  %cc = tfm.concat %w, %w {axis = 0 : i64} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  %s = tfm.softmax %cc {axis = 1 : i64} : tensor<8x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
