// RUN: llmc-opt %s -split-input-file -convert-tfm-to-loops=max-tokens=8 -canonicalize -cse | FileCheck %s
// The attention family: causal paged attention over a ragged batch.

// Paged attention: for every token, this thread's share of the query heads;
// query head h reads KV head h / 2 (GQA); keys from
// max(0, pos + 1 - window) to pos of the token's own sequence, each through
// its block table (block = table[seq][j / 4], row j % 4); a first pass for
// the maximum scaled score, a second for exp(score - max) weighting the
// values, then a division by the sum.
// CHECK-LABEL: func.func @llmc_step
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 3.500000e-01 : f32
// CHECK: %[[KC:.*]] = memref.view %{{.*}} : memref<?xi8> to memref<?x4x2x8xf32>
// CHECK: %[[VC:.*]] = memref.view %{{.*}} : memref<?xi8> to memref<?x4x2x8xf32>
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:     %[[KVH:.*]] = arith.divui %[[H]], %c2
// CHECK:     %[[SEQ32:.*]] = memref.load %[[SEQIDS:.*]][%[[T]]]
// CHECK:     %[[SEQ:.*]] = arith.index_cast %[[SEQ32]]
// CHECK:     %[[P32:.*]] = memref.load %[[POS:.*]][%[[T]]]
// CHECK:     %[[P:.*]] = arith.index_cast %[[P32]]
// CHECK:     %[[END:.*]] = arith.addi %[[P]], %c1
// CHECK:     %[[PAST:.*]] = arith.cmpi ugt, %[[END]], %c3
// CHECK:     %[[FROM:.*]] = arith.addi %[[P]], %c-2
// CHECK:     %[[START:.*]] = arith.select %[[PAST]], %[[FROM]], %c0
// CHECK:     %[[MAX:.*]] = scf.for %[[J:.*]] = %[[START]] to %[[END]] step %c1 iter_args(%[[M:.*]] = %{{.*}}) -> (f32) {
// CHECK:       %[[BI:.*]] = arith.divui %[[J]], %c4
// CHECK:       %[[B32:.*]] = memref.load %[[BT:.*]][%[[SEQ]], %[[BI]]]
// CHECK:       %[[B:.*]] = arith.index_cast %[[B32]]
// CHECK:       %[[OFF:.*]] = arith.remui %[[J]], %c4
// CHECK:       %[[DOT:.*]] = scf.for %[[D:.*]] = %c0 to %c8 step %c1 iter_args(%[[S:.*]] = %{{.*}}) -> (f32) {
// CHECK:         %[[KV:.*]] = memref.load %[[KC]][%[[B]], %[[OFF]], %[[KVH]], %[[D]]]
// CHECK:         %[[QV:.*]] = memref.load %[[Q:.*]][%[[T]], %[[H]], %[[D]]]
// CHECK:         %[[QK:.*]] = arith.mulf %[[QV]], %[[KV]] fastmath<reassoc,contract>
// CHECK:         arith.addf %[[S]], %[[QK]] fastmath<reassoc,contract>
// CHECK:       %[[SC:.*]] = arith.mulf %[[DOT]], %[[SCALE]]
// CHECK:       arith.maximumf %[[M]], %[[SC]]
// CHECK:     scf.for %[[D0:.*]] = %c0 to %c8 step %c1 {
// CHECK:       memref.store %{{.*}}, %[[OUT:.*]][%[[T]], %[[H]], %[[D0]]]
// CHECK:     %[[SUM:.*]] = scf.for %[[J2:.*]] = %[[START]] to %[[END]] step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:       %[[SC2:.*]] = arith.mulf %{{.*}}, %[[SCALE]]
// CHECK:       %[[SH:.*]] = arith.subf %[[SC2]], %[[MAX]]
// CHECK:       %[[E:.*]] = math.exp %[[SH]]
// CHECK:       scf.for %[[D2:.*]] = %c0 to %c8 step %c1 {
// CHECK:         %[[VV:.*]] = memref.load %[[VC]][%{{.*}}, %{{.*}}, %[[KVH]], %[[D2]]]
// CHECK:         %[[EV:.*]] = arith.mulf %[[E]], %[[VV]]
// CHECK:         %[[O:.*]] = memref.load %[[OUT]][%[[T]], %[[H]], %[[D2]]]
// CHECK:         %[[O2:.*]] = arith.addf %[[O]], %[[EV]]
// CHECK:         memref.store %[[O2]], %[[OUT]][%[[T]], %[[H]], %[[D2]]]
// CHECK:       arith.addf %[[ACC]], %[[E]]
// CHECK:     scf.for %[[D3:.*]] = %c0 to %c8 step %c1 {
// CHECK:       %[[O3:.*]] = memref.load %[[OUT]][%[[T]], %[[H]], %[[D3]]]
// CHECK:       %[[O4:.*]] = arith.divf %[[O3]], %[[SUM]]
// CHECK:       memref.store %[[O4]], %[[OUT]][%[[T]], %[[H]], %[[D3]]]
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
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
  return %o, %kc1, %vc1 : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Without a window the keys start at 0.
// CHECK-LABEL: func.func @llmc_step
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: call @llmc_barrier()
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK-NOT: arith.select
// CHECK:     %[[END:.*]] = arith.addi %{{.*}}, %c1
// CHECK:     scf.for %{{.*}} = %c0 to %[[END]] step %c1 iter_args
// CHECK: call @llmc_barrier()

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) {
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
  return %o, %kc1, %vc1 : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
