// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan | FileCheck %s
// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan | llmc-opt -split-input-file | FileCheck %s

// Every op but the views becomes a kernel over memrefs: its distinct
// operands, then its results; an in-place cache update stores into the
// cache it loaded. The plan launches them in program order: weights at
// packed offsets, intermediates at their arena offsets, the reshape as a
// view of what it reshapes, caches by number, inputs by name, the logits
// as the output; every dynamic size named by the step dimension it is.
// CHECK-LABEL: func.func @embedding_0(%arg0: memref<10x8xf32>, %arg1: memref<?xi32>, %arg2: memref<?x8xf32>) attributes {plan.kernel}
// CHECK-NEXT: %[[T:.*]] = plan.load %arg0 : memref<10x8xf32> -> tensor<10x8xf32>
// CHECK-NEXT: %[[I:.*]] = plan.load %arg1 : memref<?xi32> -> tensor<?xi32>
// CHECK-NEXT: %[[E:.*]] = tfm.embedding %[[T]], %[[I]] {tfm.kernel_config = #tfm.cpu_kernel<parallel = rows, vector_width = 4>}
// CHECK-NEXT: plan.store %[[E]], %arg2 : tensor<?x8xf32> -> memref<?x8xf32>
// CHECK-LABEL: func.func @kv_cache_write_0(%arg0: memref<?x4x1x8xf32>, %arg1: memref<?x1x8xf32>, %arg2: memref<?xi32>)
// CHECK: %[[C:.*]] = plan.load %arg0
// CHECK: %[[W:.*]] = tfm.kv_cache_write %[[C]]
// CHECK-NEXT: plan.store %[[W]], %arg0
// CHECK-LABEL: func.func @attention_0
// CHECK-LABEL: func.func @gather_last_tokens_0
// CHECK-LABEL: func.func @linear_0
// CHECK-NOT: func.func @step
// CHECK-LABEL: plan.program @step
// CHECK-SAME: arena_bytes = 512 : i64
// CHECK-SAME: kv_caches = [tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>]
// CHECK-SAME: max_tokens = 8 : i64, vocab_size = 10 : i64
// CHECK-SAME: weights = [#plan.weight<0, <"embed" : tensor<10x8xf32>>>, #plan.weight<320, <"head" : tensor<10x8xf32>>>], weights_bytes = 640 : i64
// CHECK-NEXT: plan.launch @embedding_0(weights + 0 : memref<10x8xf32>, token_ids : memref<?xi32> [tokens], arena + 0 : memref<?x8xf32> [tokens]) over tokens
// The one kernel writes both caches, K and V.
// CHECK-NEXT: plan.launch @kv_cache_write_0(kv 0 : memref<?x4x1x8xf32> [kv_blocks], arena + 0 : memref<?x1x8xf32> [tokens], slot_mapping : memref<?xi32> [tokens]) over tokens
// CHECK-NEXT: plan.launch @kv_cache_write_0(kv 1 : memref<?x4x1x8xf32> [kv_blocks], arena + 0 : memref<?x1x8xf32> [tokens], slot_mapping : memref<?xi32> [tokens]) over tokens
// CHECK-NEXT: plan.launch @attention_0(arena + 0 : memref<?x1x8xf32> [tokens], kv 0 : memref<?x4x1x8xf32> [kv_blocks], kv 1 : memref<?x4x1x8xf32> [kv_blocks], block_tables : memref<?x?xi32> [seqs, max_blocks], seq_ids : memref<?xi32> [tokens], positions : memref<?xi32> [tokens], arena + 256 : memref<?x1x8xf32> [tokens]) over 1
// CHECK-NEXT: plan.launch @gather_last_tokens_0(arena + 256 : memref<?x8xf32> [tokens], logits_indices : memref<?xi32> [logits_rows], arena + 0 : memref<?x8xf32> [logits_rows]) over 8
// CHECK-NEXT: plan.launch @linear_0(arena + 0 : memref<?x8xf32> [logits_rows], weights + 320 : memref<10x8xf32>, logits : memref<?x10xf32> [logits_rows]) over 10
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %k = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a = tfm.attention %k, %kc1, %vc1, %bt, %seq, %pos {scale = 0.5 : f64, sliding_window = 2 : i64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %f = tfm.reshape %a : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %last = tfm.gather_last_tokens %f, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %w = tfm.weight "head" : tensor<10x8xf32>
  %l = tfm.linear %last, %w : (tensor<?x8xf32>, tensor<10x8xf32>) -> tensor<?x10xf32>
  return %l, %kc1, %vc1 : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// Kernels that print the same are emitted once: the two layers' norms
// share one kernel, with their own weights as launch arguments; a norm with
// another eps is another kernel. The weight used twice is packed once; a
// merged projection's recipe is kept as it is.
// CHECK-LABEL: func.func @rms_norm_0
// CHECK-SAME: memref<16xf32>
// CHECK: eps = 9.9999999999999995E-7
// CHECK-LABEL: func.func @rms_norm_1
// CHECK: eps = 1.000000e-05
// CHECK-NOT: func.func @rms_norm_2
// CHECK-LABEL: plan.program @step
// CHECK-SAME: weights = [#plan.weight<0, <"embed" : tensor<10x16xf32>>>, #plan.weight<640, <"n0" : tensor<16xf32>>>, #plan.weight<704, <"n1" : tensor<16xf32>>>, #plan.weight<768, <"q+k" : tensor<32x16xf32>, transform = concat, parts = [#tfm.recipe<"q" : tensor<16x16xf32>>, #tfm.recipe<"k" : tensor<16x16xf32>, transform = transpose, sources = ["m.k", "k"]>]>>]
// CHECK: plan.launch @rms_norm_0(arena + 0 : memref<?x16xf32> [tokens], weights + 640 : memref<16xf32>
// CHECK: plan.launch @rms_norm_0(arena + 512 : memref<?x16xf32> [tokens], weights + 704 : memref<16xf32>
// CHECK: plan.launch @rms_norm_1(arena + 0 : memref<?x16xf32> [tokens], weights + 640 : memref<16xf32>
// CHECK: plan.launch @linear_0({{.*}}weights + 768 : memref<32x16xf32>{{.*}}) over 32
// The elementwise kernel's work items are its elements.
// CHECK: plan.launch @add_0({{.*}}) over 16 x tokens
// CHECK: plan.launch @gather_last_tokens_0({{.*}}, logits : memref<?x16xf32> [logits_rows]) over 16
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w0 = tfm.weight "n0" : tensor<16xf32>
  %a = tfm.rms_norm %h, %w0 {eps = 1.0e-6 : f64} : tensor<?x16xf32>, tensor<16xf32>
  %w1 = tfm.weight "n1" : tensor<16xf32>
  %b = tfm.rms_norm %a, %w1 {eps = 1.0e-6 : f64} : tensor<?x16xf32>, tensor<16xf32>
  %w0b = tfm.weight "n0" : tensor<16xf32>
  %c = tfm.rms_norm %b, %w0b {eps = 1.0e-5 : f64} : tensor<?x16xf32>, tensor<16xf32>
  %qk = tfm.weight "q+k", transform = concat, parts = [#tfm.recipe<"q" : tensor<16x16xf32>>, #tfm.recipe<"k" : tensor<16x16xf32>, transform = transpose, sources = ["m.k", "k"]>] : tensor<32x16xf32>
  %p = tfm.linear %c, %qk : (tensor<?x16xf32>, tensor<32x16xf32>) -> tensor<?x32xf32>
  %s = tfm.slice %p {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %o = tfm.add %s, %c : tensor<?x16xf32>
  %g = tfm.gather_last_tokens %o, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %g, %kc, %vc : tensor<?x16xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// Pipeline stages: the first sends its hidden states on (and has no
// logits: vocab 0), the last receives them into the arena, sized by the
// tokens; both are plan entries on the one buffer.
// CHECK-LABEL: plan.program @step
// CHECK-SAME: vocab_size = 0
// CHECK: plan.launch @embedding_0({{.*}}, arena + [[H:[0-9]+]] : memref<?x8xf32> [tokens])
// CHECK-NEXT: plan.collective "send" [#plan.buffer<arena + [[H]] : memref<?x8xf32> [tokens]>] {peer = 1 : i64}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  tfm.send %h {peer = 1 : i64} : tensor<?x8xf32>
  return %kc, %vc : tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// CHECK-LABEL: plan.program @step
// CHECK-SAME: vocab_size = 8
// CHECK-NEXT: plan.collective "recv" [#plan.buffer<arena + [[R:[0-9]+]] : memref<?x8xf32> [tokens]>] {peer = 0 : i64}
// CHECK-NEXT: plan.launch @gather_last_tokens_0(arena + [[R]] : memref<?x8xf32> [tokens], logits_indices : memref<?xi32> [logits_rows], logits : memref<?x8xf32> [logits_rows])
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %h = tfm.recv %ids {peer = 0 : i64} : tensor<?xi32> -> tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
