// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The selection family: embedding lookup, gather_last_tokens, argmax.

// Embedding: this invocation's tokens, each the row of the table at the
// token's id.
// CHECK-LABEL: func.func @embedding_0(%arg0: memref<10x16xf32>, %arg1: memref<?xi32>, %arg2: memref<?x16xf32>, %arg3: index, %arg4: index)
// CHECK: %[[ROWS:.*]] = memref.dim %arg2, %c0
// CHECK: %[[B:.*]] = arith.minui %arg3, %[[ROWS]]
// CHECK: %[[E:.*]] = arith.minui %arg4, %[[ROWS]]
// CHECK: scf.for %[[T:.*]] = %[[B]] to %[[E]] step %c1 {
// CHECK:   scf.for %[[J:.*]] = %c0 to %c16 step %c1 {
// CHECK:     %[[ID32:.*]] = memref.load %arg1[%[[T]]]
// CHECK:     %[[ID:.*]] = arith.index_cast %[[ID32]]
// CHECK:     %[[V:.*]] = memref.load %arg0[%[[ID]], %[[J]]]
// CHECK:     memref.store %[[V]], %arg2[%[[T]], %[[J]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// The rows that need logits: for every index, this invocation's columns
// (of 16) of the row it names.
// CHECK-LABEL: func.func @gather_last_tokens_0
// CHECK: %[[B:.*]] = arith.minui %arg3, %c16
// CHECK: %[[E:.*]] = arith.minui %arg4, %c16
// CHECK: scf.for %[[S:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[J:.*]] = %[[B]] to %[[E]] step %c1 {
// CHECK:     %[[R32:.*]] = memref.load %arg1[%[[S]]]
// CHECK:     %[[R:.*]] = arith.index_cast %[[R32]]
// CHECK:     %[[V:.*]] = memref.load %{{.*}}[%[[R]], %[[J]]]
// CHECK:     memref.store %[[V]], %{{.*}}[%[[S]], %[[J]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.gather_last_tokens %h, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Argmax: per row of this invocation's rows, the first maximum (strictly
// greater replaces), stored as i32.
// CHECK-LABEL: func.func @argmax_0(%arg0: memref<?x16xf32>, %arg1: memref<?xi32>, %arg2: index, %arg3: index)
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[BEST:.*]]:2 = scf.for %[[J:.*]] = %c0 to %c16 step %c1 iter_args(%[[M:.*]] = %{{.*}}, %[[I:.*]] = %c0) -> (f32, index) {
// CHECK:     %[[X:.*]] = memref.load %{{.*}}[%[[R]], %[[J]]]
// CHECK:     %[[GT:.*]] = arith.cmpf ogt, %[[X]], %[[M]]
// CHECK:     %[[M2:.*]] = arith.select %[[GT]], %[[X]], %[[M]]
// CHECK:     %[[I2:.*]] = arith.select %[[GT]], %[[J]], %[[I]]
// CHECK:     scf.yield %[[M2]], %[[I2]]
// CHECK:   %[[ID:.*]] = arith.index_cast %[[BEST]]#1 : index to i32
// CHECK:   memref.store %[[ID]], %{{.*}}[%[[R]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  %am = tfm.argmax %n : tensor<?x16xf32> -> tensor<?xi32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// int8 rows (tfm-quantize-weights): the token's row converted and scaled
// by the f32 in its last 4 bytes.
// CHECK-LABEL: func.func @embedding_0(%arg0: memref<10x20xi8>
// CHECK: %[[Q:.*]] = memref.load %arg0
// CHECK: %[[F:.*]] = arith.sitofp %[[Q]] : i8 to f32
// CHECK: %[[S:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: %[[V:.*]] = arith.mulf %[[F]], %[[S]]
// CHECK: memref.store %[[V]], %arg2
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x20xi8>
  %h = tfm.embedding %e, %ids : (tensor<10x20xi8>, tensor<?xi32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %h, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
