// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -verify-diagnostics

// expected-error @+1 {{no step function (a func.func marked tfm.step)}}
module {
  func.func @other() {
    return
  }
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %k = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x1x8xf32>
  // expected-error @+1 {{'tfm.kv_cache_write' op updates a KV cache in place that has other uses; its old value would be lost}}
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %kc2 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc1, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  // expected-error @+1 {{'tfm.send' op hands on a value outside the arena}}
  tfm.send %kc {peer = 1 : i64} : tensor<?x4x1x8xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %li : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %r = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x8xf32>
  // expected-error @+1 {{'func.return' op the logits must be computed by one of the step's kernels}}
  return %r, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  // expected-error @+1 {{'func.return' op the logits have a row per tokens but the output holds a row per logits index (gather the rows that need logits with tfm.gather_last_tokens)}}
  return %h, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %li : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %k = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %g = tfm.silu %h : tensor<?x8xf32>
  // expected-error @+1 {{'func.return' op result #1 must be the in-place update of cache operand #6}}
  return %g, %vc1, %kc1 : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %li : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  // expected-error @+1 {{'tfm.weight' op names weight 'embed' with another recipe than an earlier tfm.weight of that name}}
  %e2 = tfm.weight "embed", transform = transpose : tensor<10x8xf32>
  %l = tfm.linear %h, %e2 : (tensor<?x8xf32>, tensor<10x8xf32>) -> tensor<?x10xf32>
  %s = tfm.slice %l {axis = 1 : i64, start = 0 : i64, size = 8 : i64} : tensor<?x10xf32> -> tensor<?x8xf32>
  return %s, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  // Twice the rows: no step dimension has that size.
  // expected-error @+1 {{'tfm.reshape' op result #0 dimension 0 is not one of the step's sizes (tokens, logits rows, sequences, blocks): llmc sizes every buffer by them}}
  %r = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x4xf32>
  %s = tfm.silu %r : tensor<?x4xf32>
  %c = tfm.concat %s, %s {axis = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %g = tfm.gather_last_tokens %c, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %li : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %w = tfm.weight "n" : tensor<8xf32>
  // A hand-written configuration the lowering cannot follow.
  // expected-error @+1 {{'tfm.rms_norm' op cannot split its work along 'heads'}}
  %n = tfm.rms_norm %h, %w {eps = 1.0e-5 : f64, tfm.kernel_config = #tfm.cpu_kernel<parallel = heads, vector_width = 4>} : tensor<?x8xf32>, tensor<8xf32>
  return %n, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
