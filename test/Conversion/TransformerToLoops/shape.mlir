// RUN: llmc-opt %s -split-input-file -convert-tfm-to-loops=max-tokens=8 -canonicalize -cse | FileCheck %s
// The shape family: reshape (a view), transpose, concat, split, slice.

// A slice copies its column range of this thread's rows.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c8 step %c1 {
// CHECK:     %[[SJ:.*]] = arith.addi %[[J]], %c4
// CHECK:     %[[V:.*]] = memref.load %[[IN:.*]][%[[R]], %[[SJ]]]
// CHECK:     memref.store %[[V]], %[[OUT:.*]][%[[R]], %[[J]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %a = tfm.slice %h {axis = 1 : i64, start = 4 : i64, size = 8 : i64} : tensor<?x16xf32> -> tensor<?x8xf32>
  %n = tfm.concat %a, %a {axis = 1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// A split is one copy per part, in the same kernel; a concat writes each
// input at its offset along the axis.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c4 step %c1 {
// CHECK:     %[[V:.*]] = memref.load %[[IN:.*]][%[[R]], %[[J]]]
// CHECK:     memref.store %[[V]], %[[P0:.*]][%[[R]], %[[J]]]
// CHECK: scf.for %[[R2:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J2:.*]] = %c0 to %c12 step %c1 {
// CHECK:     %[[SJ:.*]] = arith.addi %[[J2]], %c4
// CHECK:     %[[V2:.*]] = memref.load %[[IN]][%[[R2]], %[[SJ]]]
// CHECK:     memref.store %[[V2]], %[[P1:.*]][%[[R2]], %[[J2]]]
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[R3:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J3:.*]] = %c0 to %c12 step %c1 {
// CHECK:     %[[V3:.*]] = memref.load %[[P1]][%[[R3]], %[[J3]]]
// CHECK:     memref.store %[[V3]], %[[OUT:.*]][%[[R3]], %[[J3]]]
// CHECK: scf.for %[[R4:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J4:.*]] = %c0 to %c4 step %c1 {
// CHECK:     %[[DJ:.*]] = arith.addi %[[J4]], %c12
// CHECK:     %[[V4:.*]] = memref.load %[[P0]][%[[R4]], %[[J4]]]
// CHECK:     memref.store %[[V4]], %[[OUT]][%[[R4]], %[[DJ]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %p:2 = tfm.split %h {axis = 1 : i64} : tensor<?x16xf32> -> tensor<?x4xf32>, tensor<?x12xf32>
  %n = tfm.concat %p#1, %p#0 {axis = 1 : i64} : (tensor<?x12xf32>, tensor<?x4xf32>) -> tensor<?x16xf32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// A reshape is a view (no loop); a transpose reads the permuted index.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: %[[V:.*]] = memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [%{{.*}}, 2, 8], strides: [16, 8, 1]
// CHECK-NOT: call @llmc_barrier()
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[I:.*]] = %c0 to %c8 step %c1 {
// CHECK:     scf.for %[[J:.*]] = %c0 to %c2 step %c1 {
// CHECK:       %[[X:.*]] = memref.load %[[V]][%[[R]], %[[J]], %[[I]]]
// CHECK:       memref.store %[[X]], %{{.*}}[%[[R]], %[[I]], %[[J]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %r = tfm.reshape %h : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %t = tfm.transpose %r {permutation = array<i64: 0, 2, 1>} : tensor<?x2x8xf32> -> tensor<?x8x2xf32>
  %f = tfm.reshape %t : tensor<?x8x2xf32> -> tensor<?x16xf32>
  %n = tfm.add %f, %f : tensor<?x16xf32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Concatenating along the rows.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: %[[W:.*]] = memref.view %{{.*}} : memref<?xi8> to memref<4x16xf32>
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[V:.*]] = memref.load %[[W]][%[[R]], %[[J]]]
// CHECK:     memref.store %[[V]], %[[OUT:.*]][%[[R]], %[[J]]]
// CHECK: scf.for %[[R2:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J2:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[DR:.*]] = arith.addi %[[R2]], %c4
// CHECK:     %[[V2:.*]] = memref.load %[[W]][%[[R2]], %[[J2]]]
// CHECK:     memref.store %[[V2]], %[[OUT]][%[[DR]], %[[J2]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "c" : tensor<4x16xf32>
  %cc = tfm.concat %w, %w {axis = 0 : i64} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  %s = tfm.softmax %cc {axis = 1 : i64} : tensor<8x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
