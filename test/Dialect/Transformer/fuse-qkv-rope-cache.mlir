// RUN: llmc-opt %s -split-input-file -tfm-fuse-qkv-rope-cache | FileCheck %s

// The merged QKV projection, RoPE of queries and keys and the two cache
// writes become one op; attention reads its results.
// CHECK-LABEL: func.func @fused(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x64xf32>, %[[POS:[a-z0-9]+]]: tensor<?xi32>, %[[SLOTS:[a-z0-9]+]]: tensor<?xi32>, %[[KC:[a-z0-9]+]]: tensor<?x16x2x16xf32>, %[[VC:[a-z0-9]+]]: tensor<?x16x2x16xf32>, %[[BT:[a-z0-9]+]]: tensor<?x?xi32>, %[[SEQ:[a-z0-9]+]]: tensor<?xi32>
// CHECK: %[[W:.*]] = tfm.weight "qkv"
// CHECK: %[[B:.*]] = tfm.weight "qkv_bias"
// CHECK-NOT: tfm.linear
// CHECK-NOT: tfm.rope
// CHECK-NOT: tfm.kv_cache_write
// CHECK: %[[Q:.*]], %[[K:.*]], %[[V:.*]] = tfm.qkv_rope_cache %[[X]], %[[W]] bias(%[[B]] : tensor<128xf32>) positions(%[[POS]]) slots(%[[SLOTS]]) caches(%[[KC]], %[[VC]]) rope <theta = 1.000000e+04, rotary_dim = 16, scaling = linear, factor = 2.000000e+00> : tensor<?x64xf32>, tensor<128x64xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16x2x16xf32> -> tensor<?x4x16xf32>
// CHECK: tfm.attention %[[Q]], %[[K]], %[[V]], %[[BT]], %[[SEQ]], %[[POS]]
func.func @fused(%x: tensor<?x64xf32>, %pos: tensor<?xi32>, %slots: tensor<?xi32>, %kc: tensor<?x16x2x16xf32>, %vc: tensor<?x16x2x16xf32>, %bt: tensor<?x?xi32>, %seq: tensor<?xi32>) -> tensor<?x4x16xf32> {
  %w = tfm.weight "qkv" : tensor<128x64xf32>
  %b = tfm.weight "qkv_bias" : tensor<128xf32>
  %l = tfm.linear %x, %w, %b : (tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  %s:3 = tfm.split %l {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %q = tfm.reshape %s#0 : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %k = tfm.reshape %s#1 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %v = tfm.reshape %s#2 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %qr = tfm.rope %q, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = linear, factor = 2.0>} : tensor<?x4x16xf32>, tensor<?xi32>
  %kr = tfm.rope %k, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = linear, factor = 2.0>} : tensor<?x2x16xf32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %kc, %kr, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %v, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %a = tfm.attention %qr, %kc1, %vc1, %bt, %seq, %pos {scale = 0.25 : f64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  return %a : tensor<?x4x16xf32>
}

// -----

// Not fused: the keys are also used raw (another user of an intermediate),
// and the two ropes disagree.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: tfm.qkv_rope_cache
// CHECK: tfm.linear
// CHECK-NOT: tfm.qkv_rope_cache
// CHECK-LABEL: func.func @mismatch
// CHECK-NOT: tfm.qkv_rope_cache
func.func @kept(%x: tensor<?x64xf32>, %pos: tensor<?xi32>, %slots: tensor<?xi32>, %kc: tensor<?x16x2x16xf32>, %vc: tensor<?x16x2x16xf32>) -> (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x2x16xf32>) {
  %w = tfm.weight "qkv" : tensor<128x64xf32>
  %l = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %s:3 = tfm.split %l {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %q = tfm.reshape %s#0 : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %k = tfm.reshape %s#1 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %v = tfm.reshape %s#2 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %qr = tfm.rope %q, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  %kr = tfm.rope %k, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x2x16xf32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %kc, %kr, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %v, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  return %qr, %kc1, %vc1, %k : tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x2x16xf32>
}
func.func @mismatch(%x: tensor<?x64xf32>, %pos: tensor<?xi32>, %slots: tensor<?xi32>, %kc: tensor<?x16x2x16xf32>, %vc: tensor<?x16x2x16xf32>) -> (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>) {
  %w = tfm.weight "qkv" : tensor<128x64xf32>
  %l = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<128x64xf32>) -> tensor<?x128xf32>
  %s:3 = tfm.split %l {axis = 1 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
  %q = tfm.reshape %s#0 : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %k = tfm.reshape %s#1 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %v = tfm.reshape %s#2 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %qr = tfm.rope %q, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  %kr = tfm.rope %k, %pos {rope = #tfm.rope<theta = 500000.0, rotary_dim = 16>} : tensor<?x2x16xf32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %kc, %kr, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %v, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  return %qr, %kc1, %vc1 : tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>
}
