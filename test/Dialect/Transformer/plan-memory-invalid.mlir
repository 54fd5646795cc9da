// RUN: llmc-opt %s -split-input-file -tfm-plan-memory -verify-diagnostics

// expected-error @+1 {{no step function (a func.func marked tfm.step)}}
module {
  func.func @other() {
    return
  }
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "e" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %t = tfm.transpose %h {permutation = array<i64: 1, 0>} : tensor<?x8xf32> -> tensor<8x?xf32>
  // expected-error @+1 {{'tfm.matmul' op result 'tensor<?x?xf32>' has more than one dynamic dimension; the arena is sized by the token count alone}}
  %m = tfm.matmul %h, %t : (tensor<?x8xf32>, tensor<8x?xf32>) -> tensor<?x?xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
