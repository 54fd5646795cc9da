// RUN: llmc-opt %s -split-input-file -verify-diagnostics -tfm-partition-pipeline="pp=3 stage=0"
// RUN: not llmc-opt %s -split-input-file -tfm-partition-pipeline="pp=2 stage=2" 2>&1 | FileCheck %s --check-prefix=STAGE
// STAGE: error: tfm-partition-pipeline: stage 2 of pp 2 (need 0 <= stage < pp)

// More stages than layers.
// expected-error @+1 {{'func.func' op cannot be split into --pp 3 pipeline stages: it has 2 layers, and every stage needs at least one}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc0: tensor<?x4x1x8xf32>, %vc0: tensor<?x4x1x8xf32>, %kc1: tensor<?x4x1x8xf32>, %vc1: tensor<?x4x1x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
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
  %g = tfm.gather_last_tokens %h2, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %hw = tfm.weight "head" : tensor<16x8xf32>
  %logits = tfm.linear %g, %hw : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  return %logits, %kc0w, %vc0w, %kc1w, %vc1w : tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}


// -----

// A step that is a stage already (no logits: it sends its output).
// expected-error @+1 {{'func.func' op is a pipeline stage already; partition the whole step once}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<16x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<16x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  tfm.send %h {peer = 1 : i64} : tensor<?x8xf32>
  return %kc, %vc : tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// Layer 2 reads layer 1's normed input besides the residual stream: no
// single value to hand on between them.
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc0: tensor<?x4x1x8xf32>, %vc0: tensor<?x4x1x8xf32>, %kc1: tensor<?x4x1x8xf32>, %vc1: tensor<?x4x1x8xf32>, %kc2: tensor<?x4x1x8xf32>, %vc2: tensor<?x4x1x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
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
  // expected-error @+1 {{'tfm.attention' op starts layer 2, but no single [tokens, hidden] value is all that layers before it hand on, so the step cannot be split there}}
  %a2 = tfm.attention %q2h, %kc2w, %vc2w, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %a2f = tfm.reshape %a2 : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %o2w = tfm.weight "l2.o" : tensor<8x8xf32>
  %o2 = tfm.linear %a2f, %o2w : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %h3 = tfm.add %n1, %o2 : tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h3, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %hw = tfm.weight "head" : tensor<16x8xf32>
  %logits = tfm.linear %g, %hw : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
  return %logits, %kc0w, %vc0w, %kc1w, %vc1w, %kc2w, %vc2w : tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

