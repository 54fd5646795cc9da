// RUN: llmc-opt %s -split-input-file -verify-diagnostics

func.func @k(%a: memref<?x8xf32>) attributes {plan.kernel} {
  // expected-error @+1 {{'plan.load' op tensor 'tensor<?x4xf32>' does not match buffer 'memref<?x8xf32>'}}
  %x = plan.load %a : memref<?x8xf32> -> tensor<?x4xf32>
  return
}

// -----

// expected-error @+1 {{buffer 'memref<?x8xf32>' has 1 dynamic dimensions but names 0}}
func.func @f() attributes {b = #plan.buffer<arena + 0 : memref<?x8xf32>>} {
  return
}

// -----

// expected-error @+1 {{buffer offset 4 is not a multiple of 64}}
func.func @f() attributes {b = #plan.buffer<arena + 4 : memref<8xf32>>} {
  return
}

// -----

// expected-error @+1 {{a KV cache buffer is memref<?xBxHxDxf32> (or f16, bf16) [kv_blocks], got 'memref<?x4xf32>'}}
func.func @f() attributes {b = #plan.buffer<kv 0 : memref<?x4xf32> [kv_blocks]>} {
  return
}

// -----

// expected-error @+1 {{an input buffer is one of the step's i32 inputs}}
func.func @f() attributes {b = #plan.buffer<positions : memref<?xf32> [tokens]>} {
  return
}

// -----

// expected-error @+1 {{unknown buffer 'scratch' (weights + N, arena + N, kv N, a step input or logits)}}
func.func @f() attributes {b = #plan.buffer<scratch : memref<8xf32>>} {
  return
}

// -----

// expected-error @+1 {{unknown step dimension 'rows'}}
func.func @f() attributes {b = #plan.buffer<arena + 0 : memref<?x8xf32> [rows]>} {
  return
}

// -----

// expected-error @+1 {{extent must be at least 1 work item, got 0}}
func.func @f() attributes {e = #plan.extent<0>} {
  return
}

// -----

plan.program @step attributes {arena_bytes = 0 : i64, max_tokens = 8 : i64, weights_bytes = 0 : i64, vocab_size = 8 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.launch' op kernel @missing does not exist}}
  plan.launch @missing() over 1
}

// -----

func.func @notkernel(%a: memref<8xf32>) {
  return
}
plan.program @step attributes {arena_bytes = 0 : i64, max_tokens = 8 : i64, weights_bytes = 64 : i64, vocab_size = 8 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.launch' op callee @notkernel is not marked plan.kernel}}
  plan.launch @notkernel(weights + 0 : memref<8xf32>) over 1
}

// -----

func.func @k(%a: memref<8xf32>) attributes {plan.kernel} {
  return
}
plan.program @step attributes {arena_bytes = 0 : i64, max_tokens = 8 : i64, weights_bytes = 64 : i64, vocab_size = 8 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.launch' op passes 2 buffers to @k, which takes 1}}
  plan.launch @k(weights + 0 : memref<8xf32>, weights + 0 : memref<8xf32>) over 1
}

// -----

// expected-error @+1 {{'plan.program' op weight 'b' at offset 0 overlaps the previous one or is unaligned}}
plan.program @step attributes {arena_bytes = 0 : i64, max_tokens = 8 : i64, weights_bytes = 128 : i64, vocab_size = 8 : i64, kv_caches = [], weights = [#plan.weight<0, #tfm.recipe<"a" : tensor<8xf32>>>, #plan.weight<0, #tfm.recipe<"b" : tensor<8xf32>>>]} {
}

// -----

// expected-error @+1 {{'plan.program' op weights end at byte 32 past weights_bytes 16}}
plan.program @step attributes {arena_bytes = 0 : i64, max_tokens = 8 : i64, weights_bytes = 16 : i64, vocab_size = 8 : i64, kv_caches = [], weights = [#plan.weight<0, #tfm.recipe<"a" : tensor<8xf32>>>]} {
}

// -----

// expected-error @+1 {{'func.func' op attribute 'plan.kernel' must be a unit attribute on a function}}
func.func @k() attributes {plan.kernel = 1 : i64} {
  return
}

// -----

plan.program @step attributes {arena_bytes = 1024 : i64, max_tokens = 8 : i64, weights_bytes = 0 : i64, vocab_size = 0 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.collective' op peer is required by send and recv and only by them}}
  plan.collective "send" [#plan.buffer<arena + 0 : memref<?x8xf32> [tokens]>]
}

// -----

plan.program @step attributes {arena_bytes = 1024 : i64, max_tokens = 8 : i64, weights_bytes = 0 : i64, vocab_size = 0 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.collective' op takes one buffer, got 2}}
  plan.collective "recv" [#plan.buffer<arena + 0 : memref<?x8xf32> [tokens]>, #plan.buffer<arena + 0 : memref<?x8xf32> [tokens]>] {peer = 0 : i64}
}

// -----

plan.program @step attributes {arena_bytes = 1024 : i64, max_tokens = 8 : i64, weights_bytes = 0 : i64, vocab_size = 0 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.collective' op peer is required by send and recv and only by them}}
  plan.collective "all_reduce" [#plan.buffer<arena + 0 : memref<?x8xf32> [tokens]>, #plan.buffer<arena + 64 : memref<?x8xf32> [tokens]>] {peer = 0 : i64}
}

// -----

plan.program @step attributes {arena_bytes = 1024 : i64, max_tokens = 8 : i64, weights_bytes = 0 : i64, vocab_size = 0 : i64, kv_caches = [], weights = []} {
  // expected-error @+1 {{'plan.collective' op kind 'scatter' is not all_reduce, all_gather, send or recv}}
  plan.collective "scatter" [#plan.buffer<arena + 0 : memref<?x8xf32> [tokens]>]
}
