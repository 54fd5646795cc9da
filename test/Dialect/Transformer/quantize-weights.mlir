// RUN: llmc-opt %s -split-input-file -tfm-quantize-weights=scheme=int8 | FileCheck %s
// RUN: llmc-opt %s -split-input-file -tfm-quantize-weights | FileCheck %s --check-prefix=NONE

// Projection weights become int8 rows [N, K + 4] (values, then the row's
// f32 scale); the recipe keeps its sources and transform; the norm weight
// and the bias stay f32.
// CHECK-LABEL: func.func @mlp
// CHECK: tfm.weight "norm" : tensor<64xf32>
// CHECK: %[[W:.*]] = tfm.weight "down", transform = transpose, sources = ["h.0.mlp.c_proj.weight"] : tensor<32x68xi8>
// CHECK: %[[B:.*]] = tfm.weight "down.bias" : tensor<32xf32>
// CHECK: tfm.linear %{{.*}}, %[[W]], %[[B]] : (tensor<?x64xf32>, tensor<32x68xi8>, tensor<32xf32>) -> tensor<?x32xf32>
// NONE-LABEL: func.func @mlp
// NONE: tfm.weight "down", transform = transpose, sources = ["h.0.mlp.c_proj.weight"] : tensor<32x64xf32>
func.func @mlp(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %nw = tfm.weight "norm" : tensor<64xf32>
  %n = tfm.rms_norm %x, %nw {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %w = tfm.weight "down", transform = transpose, sources = ["h.0.mlp.c_proj.weight"] : tensor<32x64xf32>
  %b = tfm.weight "down.bias" : tensor<32xf32>
  %y = tfm.linear %n, %w, %b : (tensor<?x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// A merged projection: the rows are quantized from the f32 parts, which
// stay as they are (one rank's shards included).
// CHECK-LABEL: func.func @merged
// CHECK: tfm.weight "qkv", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x4xf32>, shard = <axis = 0, index = 1, count = 2>>] : tensor<12x8xi8>
func.func @merged(%x: tensor<?x4xf32>) -> tensor<?x12xf32> {
  %w = tfm.weight "qkv", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x4xf32>, shard = #tfm.shard<axis = 0, index = 1, count = 2>>] : tensor<12x4xf32>
  %y = tfm.linear %x, %w : (tensor<?x4xf32>, tensor<12x4xf32>) -> tensor<?x12xf32>
  return %y : tensor<?x12xf32>
}

// -----

// A tied table: the embedding reads each token's row with its scale, the
// LM head the rows as a projection. Learned positions (ids = the step's
// positions argument) stay f32.
// CHECK-LABEL: func.func @step
// CHECK: %[[T:.*]] = tfm.weight "embed" : tensor<512x68xi8>
// CHECK: tfm.embedding %[[T]], %{{.*}} : (tensor<512x68xi8>, tensor<?xi32>) -> tensor<?x64xf32>
// CHECK: %[[P:.*]] = tfm.weight "wpe" : tensor<256x64xf32>
// CHECK: tfm.embedding %[[P]], %{{.*}} : (tensor<256x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
// CHECK: tfm.linear %{{.*}}, %[[T]] : (tensor<?x64xf32>, tensor<512x68xi8>) -> tensor<?x512xf32>
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x512xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %t = tfm.weight "embed" : tensor<512x64xf32>
  %h = tfm.embedding %t, %ids : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %p = tfm.weight "wpe" : tensor<256x64xf32>
  %hp = tfm.embedding %p, %pos : (tensor<256x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %s = tfm.add %h, %hp : tensor<?x64xf32>
  %l = tfm.linear %s, %t : (tensor<?x64xf32>, tensor<512x64xf32>) -> tensor<?x512xf32>
  %g = tfm.gather_last_tokens %l, %li : (tensor<?x512xf32>, tensor<?xi32>) -> tensor<?x512xf32>
  return %g, %kc, %vc : tensor<?x512xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
