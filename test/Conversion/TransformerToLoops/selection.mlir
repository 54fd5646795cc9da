// RUN: llmc-opt %s -split-input-file -convert-tfm-to-loops=max-tokens=8 -canonicalize -cse | FileCheck %s
// The selection family: embedding lookup, gather_last_tokens, argmax.

// Embedding: this thread's share of the tokens, each row of the table at
// the token's id.
// CHECK-LABEL: func.func @llmc_step
// CHECK: %[[TABLE:.*]] = memref.view %{{.*}}[%c0][] : memref<?xi8> to memref<10x16xf32>
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[ID32:.*]] = memref.load %[[IDS:.*]][%[[T]]]
// CHECK:     %[[ID:.*]] = arith.index_cast %[[ID32]]
// CHECK:     %[[V:.*]] = memref.load %[[TABLE]][%[[ID]], %[[J]]]
// CHECK:     memref.store %[[V]], %{{.*}}[%[[T]], %[[J]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// The rows that need logits: for every index, this thread's share of the
// columns of the row it names.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[S:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:     %[[R32:.*]] = memref.load %[[LI:.*]][%[[S]]]
// CHECK:     %[[R:.*]] = arith.index_cast %[[R32]]
// CHECK:     %[[V:.*]] = memref.load %{{.*}}[%[[R]], %[[J]]]
// CHECK:     memref.store %[[V]], %{{.*}}[%[[S]], %[[J]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.gather_last_tokens %h, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Argmax: per row of this thread's share, the first maximum (strictly
// greater replaces), stored as i32.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[BEST:.*]]:2 = scf.for %[[J:.*]] = %c0 to %c16 step %c1 iter_args(%[[M:.*]] = %{{.*}}, %[[I:.*]] = %c0) -> (f32, index) {
// CHECK:     %[[X:.*]] = memref.load %{{.*}}[%[[R]], %[[J]]]
// CHECK:     %[[GT:.*]] = arith.cmpf ogt, %[[X]], %[[M]]
// CHECK:     %[[M2:.*]] = arith.select %[[GT]], %[[X]], %[[M]]
// CHECK:     %[[I2:.*]] = arith.select %[[GT]], %[[J]], %[[I]]
// CHECK:     scf.yield %[[M2]], %[[I2]]
// CHECK:   %[[ID:.*]] = arith.index_cast %[[BEST]]#1 : index to i32
// CHECK:   memref.store %[[ID]], %{{.*}}[%[[R]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  %am = tfm.argmax %n : tensor<?x16xf32> -> tensor<?xi32>
  return %n, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
