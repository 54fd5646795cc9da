// RUN: llmc-opt %s -split-input-file -tfm-shard-tensor-parallel="tp=2 rank=0" | FileCheck %s --check-prefixes=CHECK,R0
// RUN: llmc-opt %s -split-input-file -tfm-shard-tensor-parallel="tp=2 rank=1" | FileCheck %s --check-prefixes=CHECK,R1

// One Llama layer, 4 query heads and 2 KV heads of 8 over 2 ranks: Q/K/V
// and gate/up column-parallel (rows of the rank), O and down row-parallel
// (its columns) with an all-reduce before the residual add, the embedding
// vocab-parallel (vocab_start) with an all-reduce, the LM head
// vocab-parallel with an all-gather of the logits. The caches hold the
// rank's one KV head.

// CHECK-LABEL: func.func @step
// CHECK-SAME: %[[C0:[a-z0-9]+]]: tensor<?x4x1x8xf32>, %[[C1:[a-z0-9]+]]: tensor<?x4x1x8xf32>)
// CHECK-SAME: -> (tensor<?x64xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>)
// R0: %[[EW:.*]] = tfm.weight "embed", shard = <axis = 0, index = 0, count = 2> : tensor<32x32xf32>
// R1: %[[EW:.*]] = tfm.weight "embed", shard = <axis = 0, index = 1, count = 2> : tensor<32x32xf32>
// R0: %[[E:.*]] = tfm.embedding %[[EW]], %{{.*}} {vocab_start = 0 : i64}
// R1: %[[E:.*]] = tfm.embedding %[[EW]], %{{.*}} {vocab_start = 32 : i64}
// CHECK: %[[H:.*]] = tfm.all_reduce %[[E]] : tensor<?x32xf32>
// CHECK: tfm.rms_norm %[[H]]
// R0: tfm.weight "q", shard = <axis = 0, index = 0, count = 2> : tensor<16x32xf32>
// R1: tfm.weight "q", shard = <axis = 0, index = 1, count = 2> : tensor<16x32xf32>
// CHECK: tfm.linear {{.*}} -> tensor<?x16xf32>
// CHECK: tfm.weight "k", shard = <axis = 0, index = {{[01]}}, count = 2> : tensor<8x32xf32>
// CHECK: tfm.weight "v", shard = <axis = 0, index = {{[01]}}, count = 2> : tensor<8x32xf32>
// CHECK: tfm.reshape {{.*}} : tensor<?x16xf32> -> tensor<?x2x8xf32>
// CHECK: tfm.reshape {{.*}} : tensor<?x8xf32> -> tensor<?x1x8xf32>
// CHECK: tfm.kv_cache_write %[[C0]], {{.*}} : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>
// CHECK: %[[A:.*]] = tfm.attention {{.*}} -> tensor<?x2x8xf32>
// CHECK: tfm.reshape %[[A]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// R0: tfm.weight "o", shard = <axis = 1, index = 0, count = 2> : tensor<32x16xf32>
// R1: tfm.weight "o", shard = <axis = 1, index = 1, count = 2> : tensor<32x16xf32>
// The row-parallel bias is added once, on rank 0.
// R0: tfm.weight "o.bias" : tensor<32xf32>
// R0: %[[O:.*]] = tfm.linear {{.*}} : (tensor<?x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<?x32xf32>
// R1-NOT: "o.bias"
// R1: %[[O:.*]] = tfm.linear {{.*}} : (tensor<?x16xf32>, tensor<32x16xf32>) -> tensor<?x32xf32>
// CHECK: %[[OR:.*]] = tfm.all_reduce %[[O]]
// CHECK: %[[H2:.*]] = tfm.add %[[H]], %[[OR]]
// CHECK: tfm.weight "gate", shard = <axis = 0, index = {{[01]}}, count = 2> : tensor<24x32xf32>
// CHECK: tfm.weight "up", shard = <axis = 0, index = {{[01]}}, count = 2> : tensor<24x32xf32>
// CHECK: tfm.silu {{.*}} : tensor<?x24xf32>
// CHECK: tfm.mul {{.*}} : tensor<?x24xf32>
// CHECK: tfm.weight "down", shard = <axis = 1, index = {{[01]}}, count = 2> : tensor<32x24xf32>
// CHECK: %[[D:.*]] = tfm.linear {{.*}} -> tensor<?x32xf32>
// CHECK: %[[DR:.*]] = tfm.all_reduce %[[D]]
// CHECK: tfm.add %[[H2]], %[[DR]]
// CHECK: tfm.gather_last_tokens
// CHECK: tfm.weight "head", shard = <axis = 0, index = {{[01]}}, count = 2> : tensor<32x32xf32>
// CHECK: %[[L:.*]] = tfm.linear {{.*}} -> tensor<?x32xf32>
// CHECK: %[[G:.*]] = tfm.all_gather %[[L]] {axis = 1 : i64, group = 2 : i64} : (tensor<?x32xf32>) -> tensor<?x64xf32>
// CHECK: return %[[G]],
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>,
                %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>,
                %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>)
    -> (tensor<?x64xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>)
    attributes {tfm.step} {
  %ew = tfm.weight "embed" : tensor<64x32xf32>
  %h = tfm.embedding %ew, %ids : (tensor<64x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %nw = tfm.weight "norm" : tensor<32xf32>
  %x = tfm.rms_norm %h, %nw {eps = 1.0e-5 : f64} : tensor<?x32xf32>, tensor<32xf32>
  %qw = tfm.weight "q" : tensor<32x32xf32>
  %q = tfm.linear %x, %qw : (tensor<?x32xf32>, tensor<32x32xf32>) -> tensor<?x32xf32>
  %kw = tfm.weight "k" : tensor<16x32xf32>
  %k = tfm.linear %x, %kw : (tensor<?x32xf32>, tensor<16x32xf32>) -> tensor<?x16xf32>
  %vw = tfm.weight "v" : tensor<16x32xf32>
  %v = tfm.linear %x, %vw : (tensor<?x32xf32>, tensor<16x32xf32>) -> tensor<?x16xf32>
  %q3 = tfm.reshape %q : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %qr = tfm.rope %q3, %pos {rope = #tfm.rope<theta = 1.0e4, rotary_dim = 8>} : tensor<?x4x8xf32>, tensor<?xi32>
  %k3 = tfm.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kr = tfm.rope %k3, %pos {rope = #tfm.rope<theta = 1.0e4, rotary_dim = 8>} : tensor<?x2x8xf32>, tensor<?xi32>
  %v3 = tfm.reshape %v : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc2 = tfm.kv_cache_write %kc, %kr, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %vc2 = tfm.kv_cache_write %vc, %v3, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %a = tfm.attention %qr, %kc2, %vc2, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x4x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x8xf32>
  %a2 = tfm.reshape %a : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %ow = tfm.weight "o" : tensor<32x32xf32>
  %ob = tfm.weight "o.bias" : tensor<32xf32>
  %o = tfm.linear %a2, %ow, %ob : (tensor<?x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  %h2 = tfm.add %h, %o : tensor<?x32xf32>
  %y = tfm.rms_norm %h2, %nw {eps = 1.0e-5 : f64} : tensor<?x32xf32>, tensor<32xf32>
  %gw = tfm.weight "gate" : tensor<48x32xf32>
  %g = tfm.linear %y, %gw : (tensor<?x32xf32>, tensor<48x32xf32>) -> tensor<?x48xf32>
  %uw = tfm.weight "up" : tensor<48x32xf32>
  %u = tfm.linear %y, %uw : (tensor<?x32xf32>, tensor<48x32xf32>) -> tensor<?x48xf32>
  %s = tfm.silu %g : tensor<?x48xf32>
  %m = tfm.mul %s, %u : tensor<?x48xf32>
  %dw = tfm.weight "down" : tensor<32x48xf32>
  %d = tfm.linear %m, %dw : (tensor<?x48xf32>, tensor<32x48xf32>) -> tensor<?x32xf32>
  %h3 = tfm.add %h2, %d : tensor<?x32xf32>
  %last = tfm.gather_last_tokens %h3, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %hw = tfm.weight "head" : tensor<64x32xf32>
  %logits = tfm.linear %last, %hw : (tensor<?x32xf32>, tensor<64x32xf32>) -> tensor<?x64xf32>
  return %logits, %kc2, %vc2 : tensor<?x64xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// GPT-2's fused QKV: one column-parallel linear per part, part j of rank
// r being shard j * 2 + r of 6, under its own name (one rank holds three
// parts of one checkpoint tensor). A vocabulary of 63, which 2 does not
// divide, keeps the embedding and the LM head whole on every rank.

// CHECK-LABEL: func.func @step
// CHECK-SAME: tensor<?x4x1x8xf32>, %{{.*}}: tensor<?x4x1x8xf32>)
// CHECK: tfm.embedding %{{.*}}, %{{.*}} : (tensor<63x16xf32>
// CHECK-NOT: tfm.all_reduce
// R0-DAG: tfm.weight "qkv.part0", transform = transpose, sources = ["qkv"], shard = <axis = 0, index = 0, count = 6> : tensor<8x16xf32>
// R1-DAG: tfm.weight "qkv.part0", transform = transpose, sources = ["qkv"], shard = <axis = 0, index = 1, count = 6> : tensor<8x16xf32>
// R0-DAG: tfm.weight "qkv.bias.part0", sources = ["qkv.bias"], shard = <axis = 0, index = 0, count = 6> : tensor<8xf32>
// R0-DAG: tfm.weight "qkv.part1", transform = transpose, sources = ["qkv"], shard = <axis = 0, index = 2, count = 6>
// R1-DAG: tfm.weight "qkv.part1", transform = transpose, sources = ["qkv"], shard = <axis = 0, index = 3, count = 6>
// R0-DAG: tfm.weight "qkv.part2", transform = transpose, sources = ["qkv"], shard = <axis = 0, index = 4, count = 6>
// R1-DAG: tfm.weight "qkv.part2", transform = transpose, sources = ["qkv"], shard = <axis = 0, index = 5, count = 6>
// CHECK-COUNT-3: tfm.linear {{.*}} -> tensor<?x8xf32>
// CHECK-NOT: tfm.split
// CHECK: tfm.attention {{.*}} -> tensor<?x1x8xf32>
// CHECK: tfm.all_reduce
// CHECK: tfm.linear {{.*}} : (tensor<?x16xf32>, tensor<63x16xf32>) -> tensor<?x63xf32>
// CHECK-NOT: tfm.all_gather
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>,
                %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>,
                %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>)
    -> (tensor<?x63xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>)
    attributes {tfm.step} {
  %ew = tfm.weight "wte" : tensor<63x16xf32>
  %h = tfm.embedding %ew, %ids : (tensor<63x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "qkv", transform = transpose : tensor<48x16xf32>
  %b = tfm.weight "qkv.bias" : tensor<48xf32>
  %qkv = tfm.linear %h, %w, %b : (tensor<?x16xf32>, tensor<48x16xf32>, tensor<48xf32>) -> tensor<?x48xf32>
  %p:3 = tfm.split %qkv {axis = 1 : i64} : tensor<?x48xf32> -> tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>
  %q = tfm.reshape %p#0 : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %k = tfm.reshape %p#1 : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %v = tfm.reshape %p#2 : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc2 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %vc2 = tfm.kv_cache_write %vc, %v, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %a = tfm.attention %q, %kc2, %vc2, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x2x8xf32>
  %a2 = tfm.reshape %a : tensor<?x2x8xf32> -> tensor<?x16xf32>
  %ow = tfm.weight "o" : tensor<16x16xf32>
  %o = tfm.linear %a2, %ow : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %h2 = tfm.add %h, %o : tensor<?x16xf32>
  %logits = tfm.linear %h2, %ew : (tensor<?x16xf32>, tensor<63x16xf32>) -> tensor<?x63xf32>
  return %logits, %kc2, %vc2 : tensor<?x63xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// One KV head for 2 ranks: replicated (its weights unsharded, the cache
// keeps its one head) while the 2 query heads split.

// CHECK-LABEL: func.func @step
// CHECK-SAME: %[[KC:[a-z0-9]+]]: tensor<?x4x1x8xf32>, %{{.*}}: tensor<?x4x1x8xf32>)
// CHECK: tfm.weight "q", shard = <axis = 0, index = {{[01]}}, count = 2> : tensor<8x16xf32>
// CHECK: tfm.weight "k" : tensor<8x16xf32>
// CHECK: tfm.kv_cache_write %[[KC]], {{.*}} : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>
// CHECK: tfm.attention {{.*}} -> tensor<?x1x8xf32>
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>,
                %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>,
                %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>)
    -> (tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>)
    attributes {tfm.step} {
  %ew = tfm.weight "wte" : tensor<63x16xf32>
  %h = tfm.embedding %ew, %ids : (tensor<63x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %qw = tfm.weight "q" : tensor<16x16xf32>
  %q = tfm.linear %h, %qw : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %kw = tfm.weight "k" : tensor<8x16xf32>
  %k = tfm.linear %h, %kw : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  %q3 = tfm.reshape %q : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %k3 = tfm.reshape %k : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc2 = tfm.kv_cache_write %kc, %k3, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc2 = tfm.kv_cache_write %vc, %k3, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a = tfm.attention %q3, %kc2, %vc2, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x2x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x2x8xf32>
  %a2 = tfm.reshape %a : tensor<?x2x8xf32> -> tensor<?x16xf32>
  %ow = tfm.weight "o" : tensor<16x16xf32>
  %o = tfm.linear %a2, %ow : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32>
  %h2 = tfm.add %h, %o : tensor<?x16xf32>
  return %h2, %kc2, %vc2 : tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
