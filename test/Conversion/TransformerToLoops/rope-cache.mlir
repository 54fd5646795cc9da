// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The RoPE + KV cache family: tfm.rope, tfm.kv_cache_write and the fused
// tfm.qkv_rope_cache.

// RoPE with a constant frequency table (llama3 scaling folded in at compile
// time): for every token, this invocation's heads, channel i
// paired with i + rotary_dim / 2; the channels past rotary_dim are copied.
// CHECK-LABEL: module
// CHECK: memref.global "private" constant @[[TABLE:.*]] : memref<2xf32> = dense<[0.576056421, 1.250000e-03]>
// CHECK-LABEL: func.func @rope_0(%arg0: memref<?x4x8xf32>, %arg1: memref<?xi32>, %arg2: memref<?x4x8xf32>, %arg3: index, %arg4: index)
// CHECK: %[[HB:.*]] = arith.minui %arg3, %c4
// CHECK: %[[HE:.*]] = arith.minui %arg4, %c4
// CHECK: %[[INV:.*]] = memref.get_global @[[TABLE]] : memref<2xf32>
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[H:.*]] = %[[HB]] to %[[HE]] step %c1 {
// CHECK:     %[[P32:.*]] = memref.load %arg1[%[[T]]]
// CHECK:     %[[P:.*]] = arith.sitofp %[[P32]] : i32 to f32
// CHECK:     scf.for %[[I:.*]] = %c0 to %c2 step %c1 {
// CHECK:       %[[F:.*]] = memref.load %[[INV]][%[[I]]]
// CHECK:       %[[A:.*]] = arith.mulf %[[P]], %[[F]]
// CHECK:       %[[C:.*]] = math.cos %[[A]]
// CHECK:       %[[S:.*]] = math.sin %[[A]]
// CHECK:       %[[I2:.*]] = arith.addi %[[I]], %c2
// CHECK:       %[[X1:.*]] = memref.load %arg0[%[[T]], %[[H]], %[[I]]]
// CHECK:       %[[X2:.*]] = memref.load %arg0[%[[T]], %[[H]], %[[I2]]]
// CHECK:       %[[X2S:.*]] = arith.mulf %[[X2]], %[[S]]
// CHECK:       %[[X1C:.*]] = arith.mulf %[[X1]], %[[C]]
// CHECK:       %[[Y1:.*]] = arith.subf %[[X1C]], %[[X2S]]
// CHECK:       memref.store %[[Y1]], %arg2[%[[T]], %[[H]], %[[I]]]
// CHECK:       %[[X1S:.*]] = arith.mulf %[[X1]], %[[S]]
// CHECK:       %[[X2C:.*]] = arith.mulf %[[X2]], %[[C]]
// CHECK:       %[[Y2:.*]] = arith.addf %[[X2C]], %[[X1S]]
// CHECK:       memref.store %[[Y2]], %arg2[%[[T]], %[[H]], %[[I2]]]
// CHECK:     scf.for %[[J:.*]] = %c4 to %c8 step %c1 {
// CHECK:       %[[V:.*]] = memref.load %arg0[%[[T]], %[[H]], %[[J]]]
// CHECK:       memref.store %[[V]], %arg2[%[[T]], %[[H]], %[[J]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x32xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = tfm.reshape %h : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kv = tfm.slice %h {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %k = tfm.reshape %kv : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %qr = tfm.rope %q, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 4, scaling = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_positions = 16>} : tensor<?x4x8xf32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %n = tfm.reshape %qr : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %o = tfm.add %n, %n : tensor<?x32xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %logits, %kc1, %vc : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Dynamic NTK: the base is per token: L = 1 + the largest position of the
// token's sequence in the step, theta' = theta * (factor * max(L, orig) /
// orig - (factor - 1)) ^ (rot / (rot - 2)), inv_freq[i] = theta' ^ (-2i / rot).
// CHECK-LABEL: func.func @rope_0
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[ROT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK-DAG: %[[THETA:.*]] = arith.constant 1.000000e+04 : f32
// CHECK-DAG: %[[EXP:.*]] = arith.constant 1.33333337 : f32
// CHECK-DAG: %[[FO:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[ORIG:.*]] = arith.constant 1.600000e+01 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:   scf.for %[[H:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:     %[[P32:.*]] = memref.load %[[POS:.*]][%[[T]]]
// CHECK:     %[[P:.*]] = arith.sitofp %[[P32]]
// CHECK:     %[[MYSEQ:.*]] = memref.load %[[SEQ:.*]][%[[T]]]
// CHECK:     %[[LAST:.*]] = scf.for %[[U:.*]] = %c0 to %{{.*}} step %c1 iter_args(%[[L:.*]] = %[[P32]]) -> (i32) {
// CHECK:       %[[S:.*]] = memref.load %[[SEQ]][%[[U]]]
// CHECK:       %[[SAME:.*]] = arith.cmpi eq, %[[S]], %[[MYSEQ]]
// CHECK:       %[[PU:.*]] = memref.load %[[POS]][%[[U]]]
// CHECK:       %[[MX:.*]] = arith.maxsi %[[L]], %[[PU]]
// CHECK:       arith.select %[[SAME]], %[[MX]], %[[L]]
// CHECK:     %[[LF:.*]] = arith.sitofp %[[LAST]]
// CHECK:     %[[LEN:.*]] = arith.addf %[[LF]], %[[ONE]]
// CHECK:     %[[LENM:.*]] = arith.maximumf %[[LEN]], %[[ORIG]]
// CHECK:     %[[R:.*]] = arith.mulf %[[LENM]], %[[FO]]
// CHECK:     %[[R1:.*]] = arith.subf %[[R]], %[[ONE]]
// CHECK:     %[[PW:.*]] = math.powf %[[R1]], %[[EXP]]
// CHECK:     %[[BASE:.*]] = arith.mulf %[[PW]], %[[THETA]]
// CHECK:     scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK:       %[[II:.*]] = arith.index_cast %[[I]] : index to i32
// CHECK:       %[[IF:.*]] = arith.sitofp %[[II]]
// CHECK:       %[[I2:.*]] = arith.mulf %[[IF]], %[[TWO]]
// CHECK:       %[[E:.*]] = arith.divf %[[I2]], %[[ROT]]
// CHECK:       %[[BP:.*]] = math.powf %[[BASE]], %[[E]]
// CHECK:       %[[F:.*]] = arith.divf %[[ONE]], %[[BP]]
// CHECK:       %[[A:.*]] = arith.mulf %[[P]], %[[F]]
// CHECK:       math.cos %[[A]]
// CHECK:       math.sin %[[A]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x32xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = tfm.reshape %h : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kv = tfm.slice %h {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %k = tfm.reshape %kv : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kr = tfm.rope %k, %pos, %seq {rope = #tfm.rope<theta = 10000.0, rotary_dim = 8, scaling = dynamic, factor = 2.0, original_max_positions = 16>} : tensor<?x2x8xf32>, tensor<?xi32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %kc, %kr, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %o = tfm.add %h, %h : tensor<?x32xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %logits, %kc1, %vc : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// KV cache write: this invocation's tokens; a token with a negative slot
// is skipped, the others go to block slot / 4, row slot % 4, in place (the
// cache is one argument, read and written).
// CHECK-LABEL: func.func @kv_cache_write_0(%arg0: memref<?x4x2x8xf32>, %arg1: memref<?x2x8xf32>, %arg2: memref<?xi32>, %arg3: index, %arg4: index)
// CHECK: scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[SLOT:.*]] = memref.load %arg2[%[[T]]]
// CHECK:   %[[OK:.*]] = arith.cmpi sge, %[[SLOT]], %{{.*}} : i32
// CHECK:   scf.if %[[OK]] {
// CHECK:     %[[S:.*]] = arith.index_cast %[[SLOT]]
// CHECK:     %[[ROW:.*]] = arith.remui %[[S]], %c4
// CHECK:     %[[BLK:.*]] = arith.divui %[[S]], %c4
// CHECK:     scf.for %[[G:.*]] = %c0 to %c2 step %c1 {
// CHECK:       scf.for %[[D:.*]] = %c0 to %c8 step %c1 {
// CHECK:         %[[V:.*]] = memref.load %arg1[%[[T]], %[[G]], %[[D]]]
// CHECK:         memref.store %[[V]], %arg0[%[[BLK]], %[[ROW]], %[[G]], %[[D]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x32xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = tfm.reshape %h : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kv = tfm.slice %h {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %k = tfm.reshape %kv : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %o = tfm.add %h, %h : tensor<?x32xf32>
  %logits = tfm.gather_last_tokens %o, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %logits, %kc1, %vc : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// The fused QKV projection over 8 work items: the 4 query heads, then the
// 2 KV heads' keys, then their values; each loop takes the part of this
// invocation's range [begin, end) that falls in its items. Query heads:
// each channel's dot product with bias, rotated in pairs and stored as the
// query; keys (rotated) and values: for tokens with a slot, straight into
// the caches, which the kernel updates in place.
// CHECK-LABEL: func.func @qkv_rope_cache_0(%arg0: memref<?x16xf32>, %arg1: memref<64x16xf32>, %arg2: memref<64xf32>, %arg3: memref<?xi32>, %arg4: memref<?xi32>, %arg5: memref<?x4x2x8xf32>, %arg6: memref<?x4x2x8xf32>, %arg7: memref<?x4x8xf32>, %arg8: index, %arg9: index)
// CHECK: %[[BEGIN:.*]] = arith.minui %arg8, %c8
// CHECK: %[[END:.*]] = arith.minui %arg9, %c8
// CHECK: %[[INV:.*]] = memref.get_global @{{.*}} : memref<4xf32>
// CHECK: %[[QE0:.*]] = arith.maxsi %[[END]], %c0
// CHECK: %[[QE:.*]] = arith.minsi %[[QE0]], %c4
// CHECK: %[[QB0:.*]] = arith.maxsi %[[BEGIN]], %c0
// CHECK: %[[QB:.*]] = arith.minsi %[[QB0]], %c4
// CHECK: scf.for %[[H:.*]] = %[[QB]] to %[[QE]] step %c1 {
// CHECK:   scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:     %[[P:.*]] = arith.sitofp
// CHECK:     %[[HROW:.*]] = arith.muli %[[H]], %c8
// CHECK:     scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK:       %[[I2:.*]] = arith.addi %[[I]], %c4
// CHECK:       %[[R1:.*]] = arith.addi %[[HROW]], %[[I]]
// CHECK:       %[[D1:.*]] = scf.for {{.*}} -> (f32) {
// CHECK:         memref.load %arg1[%[[R1]], %{{.*}}]
// CHECK:         arith.mulf {{.*}} fastmath<reassoc,contract>
// CHECK:       %[[B1:.*]] = memref.load %arg2[%[[R1]]]
// CHECK:       %[[X1:.*]] = arith.addf %[[D1]], %[[B1]]
// CHECK:       %[[R2:.*]] = arith.addi %[[HROW]], %[[I2]]
// CHECK:       %[[D2:.*]] = scf.for {{.*}} -> (f32) {
// CHECK:       %[[X2:.*]] = arith.addf %[[D2]], %{{.*}}
// CHECK:       %[[F:.*]] = memref.load %[[INV]][%[[I]]]
// CHECK:       %[[A:.*]] = arith.mulf %[[P]], %[[F]]
// CHECK:       %[[C:.*]] = math.cos %[[A]]
// CHECK:       %[[S:.*]] = math.sin %[[A]]
// CHECK:       memref.store %{{.*}}, %arg7[%[[T]], %[[H]], %[[I]]]
// CHECK:       memref.store %{{.*}}, %arg7[%[[T]], %[[H]], %[[I2]]]
// Keys: items [4, 6) of the range, shifted to KV heads [0, 2).
// CHECK: %[[KE0:.*]] = arith.subi %[[END]], %c4
// CHECK: %[[KB0:.*]] = arith.subi %[[BEGIN]], %c4
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:     memref.load %arg3[%[[T]]]
// CHECK:     %[[SLOT:.*]] = memref.load %arg4[%[[T]]]
// CHECK:     %[[OK:.*]] = arith.cmpi sge, %[[SLOT]]
// CHECK:     scf.if %[[OK]] {
// CHECK:       %[[KH:.*]] = arith.addi %[[G]], %c4
// CHECK:       %[[KROW:.*]] = arith.muli %[[KH]], %c8
// CHECK:       scf.for %[[I:.*]] = %c0 to %c4 step %c1 {
// CHECK:         math.cos
// CHECK:         memref.store %{{.*}}, %arg5[%{{.*}}, %{{.*}}, %[[G]], %[[I]]]
// CHECK:         memref.store %{{.*}}, %arg5[%{{.*}}, %{{.*}}, %[[G]], %{{.*}}]
// Values: items [6, 8).
// CHECK: %[[VE0:.*]] = arith.subi %[[END]], %c6
// CHECK: %[[VB0:.*]] = arith.subi %[[BEGIN]], %c6
// CHECK: scf.for %[[G2:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   scf.for %[[T2:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:     scf.if
// CHECK:       %[[VH:.*]] = arith.addi %[[G2]], %c6
// CHECK:       %[[VROW:.*]] = arith.muli %[[VH]], %c8
// CHECK:       scf.for %[[J:.*]] = %c0 to %c8 step %c1 {
// CHECK:         %[[VR:.*]] = arith.addi %[[VROW]], %[[J]]
// CHECK:         %[[VD:.*]] = scf.for {{.*}} -> (f32) {
// CHECK:           memref.load %arg1[%[[VR]], %{{.*}}]
// CHECK:         %[[VB:.*]] = memref.load %arg2[%[[VR]]]
// CHECK:         %[[V:.*]] = arith.addf %[[VD]], %[[VB]]
// CHECK:         memref.store %[[V]], %arg6[%{{.*}}, %{{.*}}, %[[G2]], %[[J]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "qkv" : tensor<64x16xf32>
  %b = tfm.weight "qkv.b" : tensor<64xf32>
  %q, %kc1, %vc1 = tfm.qkv_rope_cache %h, %w bias(%b : tensor<64xf32>) positions(%pos) slots(%slots) caches(%kc, %vc) rope <theta = 10000.0, rotary_dim = 8> : tensor<?x16xf32>, tensor<64x16xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x4x2x8xf32> -> tensor<?x4x8xf32>
  %n2 = tfm.reshape %q : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %n = tfm.slice %n2 {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc1, %vc1 : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
