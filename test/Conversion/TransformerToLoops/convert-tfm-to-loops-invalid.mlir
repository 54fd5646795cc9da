// RUN: llmc-opt %s -split-input-file -convert-tfm-to-loops -verify-diagnostics

// expected-error @+1 {{'func.func' op is not an llmc step function: expected 6 batch operands followed by K and V caches per layer}}
func.func @step(%ids: tensor<?xi32>) -> tensor<?x10xf32> {
  %e = tfm.weight "embed" : tensor<10x10xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x10xf32>, tensor<?xi32>) -> tensor<?x10xf32>
  return %h : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'func.func' op is not an llmc step function: operand #4 must be a rank-2 i32 tensor}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x10xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x10xf32>, tensor<?xi32>) -> tensor<?x10xf32>
  return %h, %kc, %vc : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %k = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x1x8xf32>
  // expected-error @+1 {{'tfm.kv_cache_write' op cache operand must have no other use: the CPU lowering updates the cache in place}}
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %kc2 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  return %h, %kc1, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  // expected-error @+1 {{'tfm.all_reduce' op is not supported by the single-rank CPU lowering}}
  %r = tfm.all_reduce %h : tensor<?x8xf32>
  return %r, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %t = tfm.transpose %h {permutation = array<i64: 1, 0>} : tensor<?x8xf32> -> tensor<8x?xf32>
  // expected-error @+1 {{'tfm.softmax' op the CPU lowering supports softmax on the last axis only}}
  %s = tfm.softmax %t {axis = 0 : i64} : tensor<8x?xf32>
  return %h, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// expected-error @+1 {{no func.func @step to lower}}
module {
  func.func @other() {
    return
  }
}
