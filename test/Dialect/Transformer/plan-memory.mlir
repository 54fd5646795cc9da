// RUN: llmc-opt %s -split-input-file -tfm-plan-memory=max-tokens=4 | FileCheck %s

// Rows of 64 f32 for 4 tokens: 1024 bytes per buffer. The arena holds two:
// each result lands beside its live operand and reuses what died.
// CHECK: module attributes {tfm.arena = #tfm.arena<bytes = 2048, naive_bytes = 4096, max_tokens = 4>}
// CHECK-LABEL: func.func @step
// CHECK: tfm.weight "e"
// CHECK-NOT: tfm.arena_offsets
// CHECK: tfm.embedding {{.*}} {tfm.arena_offsets = array<i64: 0>}
// CHECK: tfm.silu {{.*}} {tfm.arena_offsets = array<i64: 1024>}
// CHECK: tfm.silu {{.*}} {tfm.arena_offsets = array<i64: 0>}
// CHECK: tfm.silu {{.*}} {tfm.arena_offsets = array<i64: 1024>}
// The returned logits go to the caller's buffer.
// CHECK: %[[L:.*]] = tfm.linear
// CHECK-NOT: tfm.arena_offsets
// CHECK-SAME: -> tensor<?x10xf32>
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "e" : tensor<10x64xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %a = tfm.silu %h : tensor<?x64xf32>
  %b = tfm.silu %a : tensor<?x64xf32>
  %c = tfm.silu %b : tensor<?x64xf32>
  %w = tfm.weight "w" : tensor<10x64xf32>
  %l = tfm.linear %c, %w : (tensor<?x64xf32>, tensor<10x64xf32>) -> tensor<?x10xf32>
  return %l, %kc, %vc : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// A reshape is a view: its input stays alive while the view is used, so
// the later silu cannot take the embedding's memory.
// CHECK: tfm.arena = #tfm.arena<bytes = 3072
// CHECK-LABEL: func.func @step
// CHECK: tfm.embedding {{.*}} {tfm.arena_offsets = array<i64: 0>}
// CHECK: tfm.reshape
// CHECK-NOT: tfm.arena_offsets
// CHECK-SAME: -> tensor<?x4x16xf32>
// CHECK: tfm.silu {{.*}} {tfm.arena_offsets = array<i64: 1024>}
// CHECK: tfm.silu {{.*}} {tfm.arena_offsets = array<i64: 2048>}
// CHECK: tfm.add
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x64xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "e" : tensor<10x64xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %v = tfm.reshape %h : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %a = tfm.silu %h : tensor<?x64xf32>
  %b = tfm.silu %a : tensor<?x64xf32>
  %bv = tfm.reshape %b : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %r = tfm.add %v, %bv : tensor<?x4x16xf32>
  %rf = tfm.reshape %r : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %g = tfm.gather_last_tokens %rf, %li : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  return %g, %kc, %vc : tensor<?x64xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// Multi-result ops get one offset per result; the KV write is in place.
// CHECK-LABEL: func.func @step
// CHECK: tfm.split {{.*}} {axis = 1 : i64, tfm.arena_offsets = array<i64: 1024, 1536>}
// CHECK: tfm.kv_cache_write
// CHECK-NOT: tfm.arena_offsets
// CHECK-SAME: tensor<?xi32>
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "e" : tensor<10x64xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %s:2 = tfm.split %h {axis = 1 : i64} : tensor<?x64xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  %k = tfm.slice %s#0 {axis = 1 : i64, start = 0 : i64, size = 8 : i64} : tensor<?x32xf32> -> tensor<?x8xf32>
  %k3 = tfm.reshape %k : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k3, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  return %k, %kc1, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// The fused QKV op writes the caches in place: only its queries take
// arena memory (256 bytes of embeddings, 512 of queries, 512 for the silu).
// CHECK: tfm.arena = #tfm.arena<bytes = 1280, naive_bytes = 1280, max_tokens = 4>
// CHECK-LABEL: func.func @step
// CHECK: tfm.qkv_rope_cache {{.*}}tfm.arena_offsets = array<i64: 256, -1, -1>
// CHECK: tfm.silu {{.*}}tfm.arena_offsets = array<i64: 768>
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %x = tfm.weight "x" : tensor<4x16xf32>
  %w = tfm.weight "w" : tensor<48x16xf32>
  %xx = tfm.embedding %x, %ids : (tensor<4x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %q, %k, %v = tfm.qkv_rope_cache %xx, %w positions(%pos) slots(%slots) caches(%kc, %vc) rope <theta = 10000.0, rotary_dim = 8> : tensor<?x16xf32>, tensor<48x16xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x4x1x8xf32> -> tensor<?x4x8xf32>
  %qs = tfm.silu %q : tensor<?x4x8xf32>
  %qf = tfm.reshape %qs : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %qf, %k, %v : tensor<?x32xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
