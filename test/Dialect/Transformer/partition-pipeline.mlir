// tfm-partition-pipeline: contiguous layers per stage, balanced by cost,
// tfm.recv / tfm.send at the stage edges, only the stage's caches, logits
// on the last stage only.
// RUN: llmc-opt %s -split-input-file -tfm-partition-pipeline="pp=2 stage=0" | FileCheck %s --check-prefix=S0
// RUN: llmc-opt %s -split-input-file -tfm-partition-pipeline="pp=2 stage=1" | FileCheck %s --check-prefix=S1
// RUN: llmc-opt %s -split-input-file -tfm-partition-pipeline="pp=4 stage=2" | FileCheck %s --check-prefix=MID
// RUN: llmc-opt %s -split-input-file -tfm-partition-pipeline="pp=1 stage=0" | FileCheck %s --check-prefix=ONE

// Four equal layers over two stages: two each. Stage 0 keeps the embedding
// and layers 0-1, sends the residual stream (the last add) to stage 1 and
// returns its four caches, no logits.
// S0-LABEL: func.func @step
// S0-SAME: %arg6: tensor<?x4x1x8xf32>, %arg7: tensor<?x4x1x8xf32>, %arg8: tensor<?x4x1x8xf32>, %arg9: tensor<?x4x1x8xf32>)
// S0-SAME: -> (tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>)
// S0-NOT: tfm.recv
// S0: tfm.embedding
// S0: tfm.weight "l1.o"
// S0: %[[H:.*]] = tfm.add
// S0-NEXT: tfm.send %[[H]] {peer = 1 : i64} : tensor<?x8xf32>
// S0-NEXT: return %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
// S0-NOT: tfm.weight "l2
// S0-NOT: tfm.weight "head"

// Stage 1 receives the stream (sized by the token ids), keeps layers 2-3,
// their caches (operands renumbered) and the LM head, and returns logits.
// S1-LABEL: func.func @step
// S1-SAME: %arg5: tensor<?xi32>, %arg6: tensor<?x4x1x8xf32>, %arg7: tensor<?x4x1x8xf32>, %arg8: tensor<?x4x1x8xf32>, %arg9: tensor<?x4x1x8xf32>)
// S1-SAME: -> (tensor<?x16xf32>, tensor<?x4x1x8xf32>
// S1-NEXT: %[[IN:.*]] = tfm.recv %arg0 {peer = 0 : i64} : tensor<?xi32> -> tensor<?x8xf32>
// S1-NOT: tfm.weight "l1
// S1: tfm.rms_norm %[[IN]]
// S1: tfm.kv_cache_write %arg6
// S1: tfm.kv_cache_write %arg7
// S1: tfm.add %[[IN]]
// S1: tfm.weight "l3.o"
// S1: %[[LOGITS:.*]] = tfm.linear {{.*}} -> tensor<?x16xf32>
// S1-NOT: tfm.send
// S1: return %[[LOGITS]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x16xf32>

// Four stages: stage 2 holds layer 2 alone, between stages 1 and 3.
// MID-LABEL: func.func @step
// MID-SAME: %arg6: tensor<?x4x1x8xf32>, %arg7: tensor<?x4x1x8xf32>) -> (tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>)
// MID-NEXT: tfm.recv %arg0 {peer = 1 : i64}
// MID-NOT: tfm.weight "l1
// MID: tfm.weight "l2.norm"
// MID-NOT: tfm.weight "l3
// MID: tfm.send %{{.*}} {peer = 3 : i64}
// MID-NEXT: return

// pp = 1 leaves the step whole.
// ONE-LABEL: func.func @step
// ONE: tfm.embedding
// ONE-NOT: tfm.send
// ONE: return %{{.*}} : tensor<?x16xf32>,

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc0: tensor<?x4x1x8xf32>, %vc0: tensor<?x4x1x8xf32>, %kc1: tensor<?x4x1x8xf32>, %vc1: tensor<?x4x1x8xf32>, %kc2: tensor<?x4x1x8xf32>, %vc2: tensor<?x4x1x8xf32>, %kc3: tensor<?x4x1x8xf32>, %vc3: tensor<?x4x1x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<16x8xf32>
  %h0 = tfm.embedding %e, %ids : (tensor<16x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %n0w = tfm.weight "l0.norm" : tensor<8xf32>
  %n0 = tfm.rms_norm %h0, %n0w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q0w = tfm.weight "l0.q" : tensor<8x8xf32>
  %q0 = tfm.linear %n0, %q0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k0w = tfm.weight "l0.k" : tensor<8x8xf32>
  %k0 = tfm.linear %n0, %k0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v0w = tfm.weight "l0.v" : tensor<8x8xf32>
  %v0 = tfm.linear %n0, %v0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q0h = tfm.reshape %q0 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k0h = tfm.reshape %k0 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v0h = tfm.reshape %v0 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc0w = tfm.kv_cache_write %kc0, %k0h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc0w = tfm.kv_cache_write %vc0, %v0h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a0 = tfm.attention %q0h, %kc0w, %vc0w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a0f = tfm.reshape %a0 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o0w = tfm.weight "l0.o" : tensor<8x8xf32>
  %o0 = tfm.linear %a0f, %o0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h1 = tfm.add %h0, %o0 : tensor<?x8xf32>
  %n1w = tfm.weight "l1.norm" : tensor<8xf32>
  %n1 = tfm.rms_norm %h1, %n1w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q1w = tfm.weight "l1.q" : tensor<8x8xf32>
  %q1 = tfm.linear %n1, %q1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k1w = tfm.weight "l1.k" : tensor<8x8xf32>
  %k1 = tfm.linear %n1, %k1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v1w = tfm.weight "l1.v" : tensor<8x8xf32>
  %v1 = tfm.linear %n1, %v1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q1h = tfm.reshape %q1 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k1h = tfm.reshape %k1 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v1h = tfm.reshape %v1 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc1w = tfm.kv_cache_write %kc1, %k1h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc1w = tfm.kv_cache_write %vc1, %v1h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a1 = tfm.attention %q1h, %kc1w, %vc1w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a1f = tfm.reshape %a1 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o1w = tfm.weight "l1.o" : tensor<8x8xf32>
  %o1 = tfm.linear %a1f, %o1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h2 = tfm.add %h1, %o1 : tensor<?x8xf32>
  %n2w = tfm.weight "l2.norm" : tensor<8xf32>
  %n2 = tfm.rms_norm %h2, %n2w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q2w = tfm.weight "l2.q" : tensor<8x8xf32>
  %q2 = tfm.linear %n2, %q2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k2w = tfm.weight "l2.k" : tensor<8x8xf32>
  %k2 = tfm.linear %n2, %k2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v2w = tfm.weight "l2.v" : tensor<8x8xf32>
  %v2 = tfm.linear %n2, %v2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q2h = tfm.reshape %q2 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k2h = tfm.reshape %k2 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v2h = tfm.reshape %v2 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc2w = tfm.kv_cache_write %kc2, %k2h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc2w = tfm.kv_cache_write %vc2, %v2h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a2 = tfm.attention %q2h, %kc2w, %vc2w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a2f = tfm.reshape %a2 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o2w = tfm.weight "l2.o" : tensor<8x8xf32>
  %o2 = tfm.linear %a2f, %o2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h3 = tfm.add %h2, %o2 : tensor<?x8xf32>
  %n3w = tfm.weight "l3.norm" : tensor<8xf32>
  %n3 = tfm.rms_norm %h3, %n3w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q3w = tfm.weight "l3.q" : tensor<8x8xf32>
  %q3 = tfm.linear %n3, %q3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k3w = tfm.weight "l3.k" : tensor<8x8xf32>
  %k3 = tfm.linear %n3, %k3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v3w = tfm.weight "l3.v" : tensor<8x8xf32>
  %v3 = tfm.linear %n3, %v3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q3h = tfm.reshape %q3 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k3h = tfm.reshape %k3 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v3h = tfm.reshape %v3 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc3w = tfm.kv_cache_write %kc3, %k3h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc3w = tfm.kv_cache_write %vc3, %v3h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a3 = tfm.attention %q3h, %kc3w, %vc3w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a3f = tfm.reshape %a3 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o3w = tfm.weight "l3.o" : tensor<8x8xf32>
  %o3 = tfm.linear %a3f, %o3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h4 = tfm.add %h3, %o3 : tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h4, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %hw = tfm.weight "head" : tensor<16x8xf32>
  %logits = tfm.linear %g, %hw : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  return %logits, %kc0w, %vc0w, %kc1w, %vc1w, %kc2w, %vc2w, %kc3w, %vc3w : tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}


// -----

// An LM head as costly as several layers: the last stage gets fewer
// layers (0-2 | 3 rather than 0-1 | 2-3).
// S0-LABEL: func.func @step
// S0: tfm.weight "l2.o"
// S0: tfm.send
// S1-LABEL: func.func @step
// S1-NOT: tfm.weight "l2
// S1: tfm.weight "l3.norm"
// S1: tfm.weight "head" : tensor<4096x8xf32>
// MID-LABEL: func.func @step
// MID: tfm.weight "l2.norm"
// ONE-LABEL: func.func @step
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc0: tensor<?x4x1x8xf32>, %vc0: tensor<?x4x1x8xf32>, %kc1: tensor<?x4x1x8xf32>, %vc1: tensor<?x4x1x8xf32>, %kc2: tensor<?x4x1x8xf32>, %vc2: tensor<?x4x1x8xf32>, %kc3: tensor<?x4x1x8xf32>, %vc3: tensor<?x4x1x8xf32>) -> (tensor<?x4096xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<4096x8xf32>
  %h0 = tfm.embedding %e, %ids : (tensor<4096x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %n0w = tfm.weight "l0.norm" : tensor<8xf32>
  %n0 = tfm.rms_norm %h0, %n0w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q0w = tfm.weight "l0.q" : tensor<8x8xf32>
  %q0 = tfm.linear %n0, %q0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k0w = tfm.weight "l0.k" : tensor<8x8xf32>
  %k0 = tfm.linear %n0, %k0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v0w = tfm.weight "l0.v" : tensor<8x8xf32>
  %v0 = tfm.linear %n0, %v0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q0h = tfm.reshape %q0 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k0h = tfm.reshape %k0 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v0h = tfm.reshape %v0 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc0w = tfm.kv_cache_write %kc0, %k0h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc0w = tfm.kv_cache_write %vc0, %v0h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a0 = tfm.attention %q0h, %kc0w, %vc0w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a0f = tfm.reshape %a0 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o0w = tfm.weight "l0.o" : tensor<8x8xf32>
  %o0 = tfm.linear %a0f, %o0w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h1 = tfm.add %h0, %o0 : tensor<?x8xf32>
  %n1w = tfm.weight "l1.norm" : tensor<8xf32>
  %n1 = tfm.rms_norm %h1, %n1w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q1w = tfm.weight "l1.q" : tensor<8x8xf32>
  %q1 = tfm.linear %n1, %q1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k1w = tfm.weight "l1.k" : tensor<8x8xf32>
  %k1 = tfm.linear %n1, %k1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v1w = tfm.weight "l1.v" : tensor<8x8xf32>
  %v1 = tfm.linear %n1, %v1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q1h = tfm.reshape %q1 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k1h = tfm.reshape %k1 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v1h = tfm.reshape %v1 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc1w = tfm.kv_cache_write %kc1, %k1h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc1w = tfm.kv_cache_write %vc1, %v1h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a1 = tfm.attention %q1h, %kc1w, %vc1w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a1f = tfm.reshape %a1 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o1w = tfm.weight "l1.o" : tensor<8x8xf32>
  %o1 = tfm.linear %a1f, %o1w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h2 = tfm.add %h1, %o1 : tensor<?x8xf32>
  %n2w = tfm.weight "l2.norm" : tensor<8xf32>
  %n2 = tfm.rms_norm %h2, %n2w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q2w = tfm.weight "l2.q" : tensor<8x8xf32>
  %q2 = tfm.linear %n2, %q2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k2w = tfm.weight "l2.k" : tensor<8x8xf32>
  %k2 = tfm.linear %n2, %k2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v2w = tfm.weight "l2.v" : tensor<8x8xf32>
  %v2 = tfm.linear %n2, %v2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q2h = tfm.reshape %q2 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k2h = tfm.reshape %k2 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v2h = tfm.reshape %v2 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc2w = tfm.kv_cache_write %kc2, %k2h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc2w = tfm.kv_cache_write %vc2, %v2h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a2 = tfm.attention %q2h, %kc2w, %vc2w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a2f = tfm.reshape %a2 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o2w = tfm.weight "l2.o" : tensor<8x8xf32>
  %o2 = tfm.linear %a2f, %o2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h3 = tfm.add %h2, %o2 : tensor<?x8xf32>
  %n3w = tfm.weight "l3.norm" : tensor<8xf32>
  %n3 = tfm.rms_norm %h3, %n3w {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %q3w = tfm.weight "l3.q" : tensor<8x8xf32>
  %q3 = tfm.linear %n3, %q3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %k3w = tfm.weight "l3.k" : tensor<8x8xf32>
  %k3 = tfm.linear %n3, %k3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %v3w = tfm.weight "l3.v" : tensor<8x8xf32>
  %v3 = tfm.linear %n3, %v3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %q3h = tfm.reshape %q3 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %k3h = tfm.reshape %k3 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %v3h = tfm.reshape %v3 : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc3w = tfm.kv_cache_write %kc3, %k3h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc3w = tfm.kv_cache_write %vc3, %v3h, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a3 = tfm.attention %q3h, %kc3w, %vc3w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a3f = tfm.reshape %a3 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o3w = tfm.weight "l3.o" : tensor<8x8xf32>
  %o3 = tfm.linear %a3f, %o3w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h4 = tfm.add %h3, %o3 : tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h4, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %hw = tfm.weight "head" : tensor<4096x8xf32>
  %logits = tfm.linear %g, %hw : (tensor<?x8xf32>, tensor<4096x8xf32>) -> tensor<?x4096xf32>
  return %logits, %kc0w, %vc0w, %kc1w, %vc1w, %kc2w, %vc2w, %kc3w, %vc3w : tensor<?x4096xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

