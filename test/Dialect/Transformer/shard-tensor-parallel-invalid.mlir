// RUN: llmc-opt %s -split-input-file -tfm-shard-tensor-parallel="tp=3 rank=1" -verify-diagnostics

// 6 query heads split over 3 ranks, but 2 KV heads neither split over 3
// nor replicate evenly.
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>,
                %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>,
                %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>)
    -> (tensor<?x48xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>)
    attributes {tfm.step} {
  %qw = tfm.weight "q" : tensor<48x48xf32>
  %h = tfm.embedding %qw, %ids : (tensor<48x48xf32>, tensor<?xi32>) -> tensor<?x48xf32>
  %q = tfm.linear %h, %qw : (tensor<?x48xf32>, tensor<48x48xf32>) -> tensor<?x48xf32>
  %kw = tfm.weight "k" : tensor<16x48xf32>
  // expected-error @+1 {{'tfm.linear' op cannot be split over --tp 3: 'k' has 2 KV heads (KV heads split when tp divides them, and are replicated when they divide tp)}}
  %k = tfm.linear %h, %kw : (tensor<?x48xf32>, tensor<16x48xf32>) -> tensor<?x16xf32>
  %q3 = tfm.reshape %q : tensor<?x48xf32> -> tensor<?x6x8xf32>
  %k3 = tfm.reshape %k : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc2 = tfm.kv_cache_write %kc, %k3, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %vc2 = tfm.kv_cache_write %vc, %k3, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %a = tfm.attention %q3, %kc2, %vc2, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x6x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x6x8xf32>
  %a2 = tfm.reshape %a : tensor<?x6x8xf32> -> tensor<?x48xf32>
  %o = tfm.linear %a2, %qw : (tensor<?x48xf32>, tensor<48x48xf32>) -> tensor<?x48xf32>
  return %o, %kc2, %vc2 : tensor<?x48xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// An MLP of 8 channels does not split over 3 ranks.
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>,
                %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>,
                %kc: tensor<?x4x3x8xf32>, %vc: tensor<?x4x3x8xf32>)
    -> (tensor<?x24xf32>, tensor<?x4x3x8xf32>, tensor<?x4x3x8xf32>)
    attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x24xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x24xf32>, tensor<?xi32>) -> tensor<?x24xf32>
  %uw = tfm.weight "up" : tensor<8x24xf32>
  // expected-error @+1 {{'tfm.linear' op cannot be split over --tp 3: 'up' has 8 output channels, which 3 does not divide}}
  %u = tfm.linear %h, %uw : (tensor<?x24xf32>, tensor<8x24xf32>) -> tensor<?x8xf32>
  %g = tfm.gelu %u : tensor<?x8xf32>
  %dw = tfm.weight "down" : tensor<24x8xf32>
  %d = tfm.linear %g, %dw : (tensor<?x8xf32>, tensor<24x8xf32>) -> tensor<?x24xf32>
  return %d, %kc, %vc : tensor<?x24xf32>, tensor<?x4x3x8xf32>, tensor<?x4x3x8xf32>
}
