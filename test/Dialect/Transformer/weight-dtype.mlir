// RUN: llmc-opt %s -split-input-file -tfm-weight-dtype=dtype=bf16 | FileCheck %s
// RUN: llmc-opt %s -split-input-file -tfm-weight-dtype=dtype=f16 | FileCheck %s --check-prefix=F16
// RUN: llmc-opt %s -split-input-file -tfm-weight-dtype | FileCheck %s --check-prefix=AUTO
// RUN: llmc-opt %s -split-input-file -tfm-weight-dtype=dtype=f32 | FileCheck %s --check-prefix=F32

// Matrix weights are narrowed; the norm weight and the bias stay f32, and
// so do the activations.
// CHECK-LABEL: func.func @mlp
// CHECK: tfm.weight "norm" : tensor<64xf32>
// CHECK: %[[W:.*]] = tfm.weight "down" : tensor<32x64xbf16>
// CHECK: %[[B:.*]] = tfm.weight "down.bias" : tensor<32xf32>
// CHECK: tfm.linear %{{.*}}, %[[W]], %[[B]] : (tensor<?x64xf32>, tensor<32x64xbf16>, tensor<32xf32>) -> tensor<?x32xf32>
// F16-LABEL: func.func @mlp
// F16: tfm.weight "down" : tensor<32x64xf16>
// F16: tfm.weight "down.bias" : tensor<32xf32>
// AUTO-LABEL: func.func @mlp
// AUTO: tfm.weight "down" : tensor<32x64xf32>
// F32-LABEL: func.func @mlp
// F32: tfm.weight "down" : tensor<32x64xf32>
func.func @mlp(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %nw = tfm.weight "norm" : tensor<64xf32>
  %n = tfm.rms_norm %x, %nw {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %w = tfm.weight "down" : tensor<32x64xf32>
  %b = tfm.weight "down.bias" : tensor<32xf32>
  %y = tfm.linear %n, %w, %b : (tensor<?x64xf32>, tensor<32x64xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// A merged projection: the concat recipe and each part are narrowed, the
// transform and sources kept.
// CHECK-LABEL: func.func @merged
// CHECK: tfm.weight "qkv", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xbf16>>, #tfm.recipe<"k" : tensor<4x4xbf16>, transform = transpose, sources = ["model.k"]>] : tensor<12x4xbf16>
func.func @merged(%x: tensor<?x4xf32>) -> tensor<?x12xf32> {
  %w = tfm.weight "qkv", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x4xf32>, transform = transpose, sources = ["model.k"]>] : tensor<12x4xf32>
  %y = tfm.linear %x, %w : (tensor<?x4xf32>, tensor<12x4xf32>) -> tensor<?x12xf32>
  return %y : tensor<?x12xf32>
}

// -----

// The tied table: the embedding and the LM head read one narrowed weight.
// CHECK-LABEL: func.func @tied
// CHECK: %[[T:.*]] = tfm.weight "embed" : tensor<512x64xbf16>
// CHECK: tfm.embedding %[[T]], %{{.*}} : (tensor<512x64xbf16>, tensor<?xi32>) -> tensor<?x64xf32>
// CHECK: tfm.linear %{{.*}}, %[[T]] : (tensor<?x64xf32>, tensor<512x64xbf16>) -> tensor<?x512xf32>
func.func @tied(%ids: tensor<?xi32>) -> tensor<?x512xf32> {
  %t = tfm.weight "embed" : tensor<512x64xf32>
  %h = tfm.embedding %t, %ids : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %l = tfm.linear %h, %t : (tensor<?x64xf32>, tensor<512x64xf32>) -> tensor<?x512xf32>
  return %l : tensor<?x512xf32>
}

// -----

// A weight also read as an activation (here the linear's input), and every
// op naming the same packed weight, stay f32 together.
// CHECK-LABEL: func.func @mixed
// CHECK: tfm.weight "w" : tensor<4x4xf32>
// CHECK: tfm.weight "w" : tensor<4x4xf32>
func.func @mixed(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %w = tfm.weight "w" : tensor<4x4xf32>
  %y = tfm.linear %w, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %w2 = tfm.weight "w" : tensor<4x4xf32>
  %z = tfm.linear %x, %w2 : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y, %z : tensor<4x4xf32>, tensor<4x4xf32>
}

// -----

// auto: the checkpoint's dtype from tfm.model (bfloat16 here).
// AUTO-LABEL: func.func @from_model
// AUTO: tfm.weight "head" : tensor<16x8xbf16>
module attributes {tfm.model = #tfm.model<architecture = "LlamaForCausalLM", dtype = "bfloat16", hidden_size = 8, num_layers = 1, num_heads = 1, num_kv_heads = 1, head_dim = 8, vocab_size = 16, max_position_embeddings = 64, eos_token_ids = [0]>} {
  func.func @from_model(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
    %w = tfm.weight "head" : tensor<16x8xf32>
    %y = tfm.linear %x, %w : (tensor<?x8xf32>, tensor<16x8xf32>) -> tensor<?x16xf32>
    return %y : tensor<?x16xf32>
  }
}
