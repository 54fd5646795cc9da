// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The attention family: causal paged attention over a ragged batch.

// Paged attention: for every token, this invocation's query heads (of 4);
// query head h reads KV head h / 2 (GQA); keys from
// max(0, pos + 1 - window) to pos of the token's own sequence, each through
// its block table (block = table[seq][j / 4], row j % 4); a first pass for
// the maximum scaled score, a second for exp(score - max) weighting the
// values, then a division by the sum.
// CHECK-LABEL: func.func @attention_0(%arg0: memref<?x4x8xf32>, %arg1: memref<?x4x2x8xf32>, %arg2: memref<?x4x2x8xf32>, %arg3: memref<?x?xi32>, %arg4: memref<?xi32>, %arg5: memref<?xi32>, %arg6: memref<?x4x8xf32>, %arg7: index, %arg8: index)
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 3.500000e-01 : f32
// CHECK: %[[HB:.*]] = arith.minui %arg7, %c4
// CHECK: %[[HE:.*]] = arith.minui %arg8, %c4
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[H:.*]] = %[[HB]] to %[[HE]] step %c1 {
// CHECK:     %[[KVH:.*]] = arith.divui %[[H]], %c2
// CHECK:     %[[SEQ32:.*]] = memref.load %arg4[%[[T]]]
// CHECK:     %[[SEQ:.*]] = arith.index_cast %[[SEQ32]]
// CHECK:     %[[P32:.*]] = memref.load %arg5[%[[T]]]
// CHECK:     %[[P:.*]] = arith.index_cast %[[P32]]
// CHECK:     %[[END:.*]] = arith.addi %[[P]], %c1
// CHECK:     %[[PAST:.*]] = arith.cmpi ugt, %[[END]], %c3
// CHECK:     %[[FROM:.*]] = arith.addi %[[P]], %c-2
// CHECK:     %[[START:.*]] = arith.select %[[PAST]], %[[FROM]], %c0
// CHECK:     %[[MAX:.*]] = scf.for %[[J:.*]] = %[[START]] to %[[END]] step %c1 iter_args(%[[M:.*]] = %{{.*}}) -> (f32) {
// CHECK:       %[[BI:.*]] = arith.divui %[[J]], %c4
// CHECK:       %[[B32:.*]] = memref.load %arg3[%[[SEQ]], %[[BI]]]
// CHECK:       %[[B:.*]] = arith.index_cast %[[B32]]
// CHECK:       %[[OFF:.*]] = arith.remui %[[J]], %c4
// CHECK:       %[[DOT:.*]] = scf.for %[[D:.*]] = %c0 to %c8 step %c1 iter_args(%[[S:.*]] = %{{.*}}) -> (f32) {
// CHECK:         %[[KV:.*]] = memref.load %arg1[%[[B]], %[[OFF]], %[[KVH]], %[[D]]]
// CHECK:         %[[QV:.*]] = memref.load %arg0[%[[T]], %[[H]], %[[D]]]
// CHECK:         %[[QK:.*]] = arith.mulf %[[QV]], %[[KV]] fastmath<reassoc,contract>
// CHECK:         arith.addf %[[S]], %[[QK]] fastmath<reassoc,contract>
// CHECK:       %[[SC:.*]] = arith.mulf %[[DOT]], %[[SCALE]]
// CHECK:       arith.maximumf %[[M]], %[[SC]]
// CHECK:     scf.for %[[D0:.*]] = %c0 to %c8 step %c1 {
// CHECK:       memref.store %{{.*}}, %arg6[%[[T]], %[[H]], %[[D0]]]
// CHECK:     %[[SUM:.*]] = scf.for %[[J2:.*]] = %[[START]] to %[[END]] step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:       %[[SC2:.*]] = arith.mulf %{{.*}}, %[[SCALE]]
// CHECK:       %[[SH:.*]] = arith.subf %[[SC2]], %[[MAX]]
// CHECK:       %[[E:.*]] = math.exp %[[SH]]
// CHECK:       scf.for %[[D2:.*]] = %c0 to %c8 step %c1 {
// CHECK:         %[[VV:.*]] = memref.load %arg2[%{{.*}}, %{{.*}}, %[[KVH]], %[[D2]]]
// CHECK:         %[[EV:.*]] = arith.mulf %[[E]], %[[VV]]
// CHECK:         %[[O:.*]] = memref.load %arg6[%[[T]], %[[H]], %[[D2]]]
// CHECK:         %[[O2:.*]] = arith.addf %[[O]], %[[EV]]
// CHECK:         memref.store %[[O2]], %arg6[%[[T]], %[[H]], %[[D2]]]
// CHECK:       arith.addf %[[ACC]], %[[E]]
// CHECK:     scf.for %[[D3:.*]] = %c0 to %c8 step %c1 {
// CHECK:       %[[O3:.*]] = memref.load %arg6[%[[T]], %[[H]], %[[D3]]]
// CHECK:       %[[O4:.*]] = arith.divf %[[O3]], %[[SUM]]
// CHECK:       memref.store %[[O4]], %arg6[%[[T]], %[[H]], %[[D3]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x32xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = tfm.reshape %h : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kv = tfm.slice %h {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %k = tfm.reshape %kv : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %a = tfm.attention %q, %kc1, %vc1, %bt, %seq, %pos {scale = 0.35 : f64, sliding_window = 3 : i64} : (tensor<?x4x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x8xf32>
  %n = tfm.reshape %a : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %o = tfm.add %n, %n : tensor<?x32xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %logits, %kc1, %vc1 : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Without a window the keys start at 0.
// CHECK-LABEL: func.func @attention_0
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK-NOT: arith.select
// CHECK:     %[[END:.*]] = arith.addi %{{.*}}, %c1
// CHECK:     scf.for %{{.*}} = %c0 to %[[END]] step %c1 iter_args

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x32xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = tfm.reshape %h : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kv = tfm.slice %h {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %k = tfm.reshape %kv : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %a = tfm.attention %q, %kc1, %vc1, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x4x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x8xf32>
  %n = tfm.reshape %a : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %o = tfm.add %n, %n : tensor<?x32xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %logits, %kc1, %vc1 : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
