// RUN: llmc-opt %s | llmc-opt | FileCheck %s
// RUN: llmc-opt %s --mlir-print-op-generic | llmc-opt | FileCheck %s

// A kernel binds its memref arguments to the tensors of its op.
// CHECK-LABEL: func.func @silu_0(%arg0: memref<?x8xf32>, %arg1: memref<?x8xf32>) attributes {plan.kernel}
// CHECK-NEXT: %[[X:.*]] = plan.load %arg0 : memref<?x8xf32> -> tensor<?x8xf32>
// CHECK-NEXT: %[[Y:.*]] = tfm.silu %[[X]]
// CHECK-NEXT: plan.store %[[Y]], %arg1 : tensor<?x8xf32> -> memref<?x8xf32>
func.func @silu_0(%a: memref<?x8xf32>, %b: memref<?x8xf32>) attributes {plan.kernel} {
  %x = plan.load %a : memref<?x8xf32> -> tensor<?x8xf32>
  %y = tfm.silu %x : tensor<?x8xf32>
  plan.store %y, %b : tensor<?x8xf32> -> memref<?x8xf32>
  return
}

func.func @gather_0(%a: memref<?x8xf32>, %i: memref<?xi32>, %b: memref<?x8xf32>) attributes {plan.kernel} {
  return
}

func.func @cache_0(%w: memref<1x8xf32>, %kv: memref<?x4x1x8xf32>) attributes {plan.kernel} {
  return
}

// Every buffer space and extent form.
// CHECK-LABEL: plan.program @step
// CHECK-SAME: arena_bytes = 1024 : i64, kv_caches = [tensor<?x4x1x8xf32>], max_tokens = 8 : i64, vocab_size = 8 : i64
// CHECK-SAME: weights = [#plan.weight<0, <"w" : tensor<8xf32>>>, #plan.weight<64, <"q+k" : tensor<2x8xf32>, transform = concat, parts = [#tfm.recipe<"q" : tensor<1x8xf32>>, #tfm.recipe<"k" : tensor<1x8xf32>, shard = <axis = 0, index = 1, count = 2>>]>>], weights_bytes = 128 : i64
// CHECK-NEXT: plan.launch @silu_0(arena + 0 : memref<?x8xf32> [tokens], arena + 512 : memref<?x8xf32> [tokens]) over 8 x tokens
// CHECK-NEXT: plan.launch @gather_0(arena + 512 : memref<?x8xf32> [tokens], logits_indices : memref<?xi32> [logits_rows], logits : memref<?x8xf32> [logits_rows]) over 8
// CHECK-NEXT: plan.launch @cache_0(weights + 0 : memref<1x8xf32>, kv 0 : memref<?x4x1x8xf32> [kv_blocks]) over logits_rows
plan.program @step attributes {arena_bytes = 1024 : i64, max_tokens = 8 : i64, weights_bytes = 128 : i64, vocab_size = 8 : i64, kv_caches = [tensor<?x4x1x8xf32>], weights = [#plan.weight<0, #tfm.recipe<"w" : tensor<8xf32>>>, #plan.weight<64, #tfm.recipe<"q+k" : tensor<2x8xf32>, transform = concat, parts = [#tfm.recipe<"q" : tensor<1x8xf32>>, #tfm.recipe<"k" : tensor<1x8xf32>, shard = <axis = 0, index = 1, count = 2>>]>>]} {
  plan.launch @silu_0(arena + 0 : memref<?x8xf32> [tokens], arena + 512 : memref<?x8xf32> [tokens]) over 8 x tokens
  plan.launch @gather_0(arena + 512 : memref<?x8xf32> [tokens], logits_indices : memref<?xi32> [logits_rows], logits : memref<?x8xf32> [logits_rows]) over 8
  plan.launch @cache_0(weights + 0 : memref<1x8xf32>, kv 0 : memref<?x4x1x8xf32> [kv_blocks]) over logits_rows
}

// The attributes print and parse on their own too.
// CHECK-LABEL: func.func @attrs
// CHECK-SAME: b = #plan.buffer<block_tables : memref<?x?xi32> [seqs, max_blocks]>, e = #plan.extent<3 x tokens>
func.func @attrs() attributes {b = #plan.buffer<block_tables : memref<?x?xi32> [seqs, max_blocks]>, e = #plan.extent<3 x tokens>} {
  return
}
