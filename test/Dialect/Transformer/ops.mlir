// RUN: llmc-opt %s | llmc-opt | FileCheck %s
// RUN: llmc-opt %s --mlir-print-op-generic | llmc-opt | FileCheck %s

// CHECK-LABEL: func @weight_and_embedding
func.func @weight_and_embedding(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
  // CHECK: %[[T:.*]] = tfm.weight "model.embed_tokens.weight" : tensor<512x64xf32>
  %t = tfm.weight "model.embed_tokens.weight" : tensor<512x64xf32>
  // CHECK: tfm.embedding %[[T]], %{{.*}} : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %e = tfm.embedding %t, %ids : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  return %e : tensor<?x64xf32>
}

// CHECK-LABEL: func @norms
func.func @norms(%x: tensor<?x64xf32>, %w: tensor<64xf32>, %b: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: tfm.rms_norm %{{.*}}, %{{.*}} {eps = 9.9999999999999995E-7 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %0 = tfm.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: tfm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  %1 = tfm.layer_norm %x, %w, %b {eps = 1.0e-5 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<?x64xf32>
}

// CHECK-LABEL: func @fused_norms
func.func @fused_norms(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>, %w: tensor<64xf32>, %b: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK: %{{.*}}, %[[N:.*]] = tfm.add_rms_norm %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.9999999999999995E-7 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %s, %n = tfm.add_rms_norm %x, %y, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: tfm.add_layer_norm %{{.*}}, %[[N]], %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  %s2, %n2 = tfm.add_layer_norm %s, %n, %w, %b {eps = 1.0e-5 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %s2, %n2 : tensor<?x64xf32>, tensor<?x64xf32>
}

// CHECK-LABEL: func @pointwise
func.func @pointwise(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: tfm.add %{{.*}}, %{{.*}} : tensor<?x64xf32>
  %0 = tfm.add %x, %y : tensor<?x64xf32>
  // CHECK: tfm.mul %{{.*}}, %{{.*}} : tensor<?x64xf32>
  %1 = tfm.mul %0, %y : tensor<?x64xf32>
  // CHECK: tfm.silu %{{.*}} : tensor<?x64xf32>
  %2 = tfm.silu %1 : tensor<?x64xf32>
  // CHECK: tfm.gelu %{{.*}} : tensor<?x64xf32>
  %3 = tfm.gelu %2 : tensor<?x64xf32>
  // CHECK: tfm.gelu %{{.*}} {approximation = #tfm.gelu_approximation<tanh>} : tensor<?x64xf32>
  %4 = tfm.gelu %3 {approximation = #tfm.gelu_approximation<tanh>} : tensor<?x64xf32>
  // CHECK: tfm.softmax %{{.*}} {axis = 1 : i64} : tensor<?x64xf32>
  %5 = tfm.softmax %4 {axis = 1 : i64} : tensor<?x64xf32>
  return %5 : tensor<?x64xf32>
}

// CHECK-LABEL: func @products
func.func @products(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>, %b: tensor<96xf32>, %m: tensor<4x8x16xf32>, %n: tensor<4x16x2xf32>) -> (tensor<?x96xf32>, tensor<?x96xf32>, tensor<4x8x2xf32>) {
  // CHECK: tfm.linear %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x96xf32>
  %0 = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x96xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<96x64xf32>, tensor<96xf32>) -> tensor<?x96xf32>
  %1 = tfm.linear %x, %w, %b : (tensor<?x64xf32>, tensor<96x64xf32>, tensor<96xf32>) -> tensor<?x96xf32>
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : (tensor<4x8x16xf32>, tensor<4x16x2xf32>) -> tensor<4x8x2xf32>
  %2 = tfm.matmul %m, %n : (tensor<4x8x16xf32>, tensor<4x16x2xf32>) -> tensor<4x8x2xf32>
  return %0, %1, %2 : tensor<?x96xf32>, tensor<?x96xf32>, tensor<4x8x2xf32>
}

// CHECK-LABEL: func @rope
func.func @rope(%q: tensor<?x4x16xf32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>) -> (tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>) {
  // CHECK: tfm.rope %{{.*}}, %{{.*}} {rope = #tfm.rope<theta = 1.000000e+04, rotary_dim = 16>}
  %0 = tfm.rope %q, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  // CHECK: tfm.rope {{.*}}scaling = linear, factor = 2.000000e+00>
  %1 = tfm.rope %q, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = linear, factor = 2.0>} : tensor<?x4x16xf32>, tensor<?xi32>
  // CHECK: tfm.rope {{.*}}#tfm.rope<theta = 5.000000e+05, rotary_dim = 8, scaling = llama3, factor = 8.000000e+00, low_freq_factor = 1.000000e+00, high_freq_factor = 4.000000e+00, original_max_positions = 8192>
  %2 = tfm.rope %q, %pos {rope = #tfm.rope<theta = 500000.0, rotary_dim = 8, scaling = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_positions = 8192>} : tensor<?x4x16xf32>, tensor<?xi32>
  // CHECK: tfm.rope %{{.*}}, %{{.*}}, %{{.*}} {{{.*}}scaling = dynamic{{.*}}} : tensor<?x4x16xf32>, tensor<?xi32>, tensor<?xi32>
  %3 = tfm.rope %q, %pos, %seq {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = dynamic, factor = 2.0, original_max_positions = 2048>} : tensor<?x4x16xf32>, tensor<?xi32>, tensor<?xi32>
  return %0, %1, %2, %3 : tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32>
}

// CHECK-LABEL: func @paged_attention
func.func @paged_attention(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %kc: tensor<?x16x2x16xf32>, %vc: tensor<?x16x2x16xf32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %seq: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x4x16xf32> {
  // CHECK: %[[KC:.*]] = tfm.kv_cache_write %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  // CHECK: tfm.attention %{{.*}}, %[[KC]], %{{.*}} {scale = 2.500000e-01 : f64, sliding_window = 24 : i64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  %o = tfm.attention %q, %kc1, %vc, %bt, %seq, %pos {scale = 0.25 : f64, sliding_window = 24 : i64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  return %o : tensor<?x4x16xf32>
}

// CHECK-LABEL: func @fused_projections
func.func @fused_projections(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>, %pos: tensor<?xi32>, %slots: tensor<?xi32>, %kc: tensor<?x16x2x16xf32>, %vc: tensor<?x16x2x16xf32>, %seq: tensor<?xi32>, %g: tensor<96x64xf32>) -> (tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x48xf32>) {
  // CHECK: tfm.qkv_rope_cache %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<128xf32>) positions(%{{.*}}) slots(%{{.*}}) caches(%{{.*}}, %{{.*}}) rope <theta = 1.000000e+04, rotary_dim = 16> : tensor<?x64xf32>, tensor<128x64xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16x2x16xf32> -> tensor<?x4x16xf32>
  %q, %k, %v = tfm.qkv_rope_cache %x, %w bias(%b : tensor<128xf32>) positions(%pos) slots(%slots) caches(%kc, %vc) rope <theta = 10000.0, rotary_dim = 16> : tensor<?x64xf32>, tensor<128x64xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: tfm.qkv_rope_cache {{.*}} caches(%{{.*}}, %{{.*}}) seq_ids(%{{.*}} : tensor<?xi32>) rope <theta = 1.000000e+04, rotary_dim = 16, scaling = dynamic, factor = 2.000000e+00, original_max_positions = 32> :
  %q2, %k2, %v2 = tfm.qkv_rope_cache %x, %w positions(%pos) slots(%slots) caches(%k, %v) seq_ids(%seq : tensor<?xi32>) rope <theta = 10000.0, rotary_dim = 16, scaling = dynamic, factor = 2.0, original_max_positions = 32> : tensor<?x64xf32>, tensor<128x64xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} {epilogue = #tfm.epilogue<swiglu>} : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x48xf32>
  %m = tfm.linear %x, %g {epilogue = #tfm.epilogue<swiglu>} : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x48xf32>
  return %q, %q2, %m : tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x48xf32>
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<?x64xf32>, %y: tensor<?x32xf32>) -> (tensor<?x4x16xf32>, tensor<16x4x?xf32>, tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x16xf32>) {
  // CHECK: tfm.reshape %{{.*}} : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %0 = tfm.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  // CHECK: tfm.transpose %{{.*}} {permutation = array<i64: 2, 1, 0>} : tensor<?x4x16xf32> -> tensor<16x4x?xf32>
  %1 = tfm.transpose %0 {permutation = array<i64: 2, 1, 0>} : tensor<?x4x16xf32> -> tensor<16x4x?xf32>
  // CHECK: tfm.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x96xf32>
  %2 = tfm.concat %x, %y {axis = 1 : i64} : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x96xf32>
  // CHECK: tfm.split %{{.*}} {axis = 1 : i64} : tensor<?x96xf32> -> tensor<?x32xf32>, tensor<?x64xf32>
  %3:2 = tfm.split %2 {axis = 1 : i64} : tensor<?x96xf32> -> tensor<?x32xf32>, tensor<?x64xf32>
  // CHECK: tfm.slice %{{.*}} {axis = 1 : i64, size = 16 : i64, start = 8 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %4 = tfm.slice %3#0 {axis = 1 : i64, start = 8 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  return %0, %1, %2, %3#0, %4 : tensor<?x4x16xf32>, tensor<16x4x?xf32>, tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x16xf32>
}

// CHECK-LABEL: func @parallel
func.func @parallel(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // CHECK: tfm.all_reduce %{{.*}} : tensor<?x64xf32>
  %0 = tfm.all_reduce %x : tensor<?x64xf32>
  // CHECK: tfm.all_reduce %{{.*}} {kind = #tfm.reduce<max>} : tensor<?x64xf32>
  %1 = tfm.all_reduce %0 {kind = #tfm.reduce<max>} : tensor<?x64xf32>
  // CHECK: tfm.send %{{.*}} {peer = 1 : i64} : tensor<?x64xf32>
  tfm.send %1 {peer = 1 : i64} : tensor<?x64xf32>
  // CHECK: tfm.recv %{{.*}} {peer = 0 : i64} : tensor<?x64xf32> -> tensor<?x64xf32>
  %2 = tfm.recv %1 {peer = 0 : i64} : tensor<?x64xf32> -> tensor<?x64xf32>
  return %2 : tensor<?x64xf32>
}

// CHECK-LABEL: func @selection
func.func @selection(%h: tensor<?x64xf32>, %idx: tensor<?xi32>, %logits: tensor<?x512xf32>, %t: tensor<?xf32>, %k: tensor<?xi32>, %p: tensor<?xf32>, %u: tensor<?xf32>) -> (tensor<?x64xf32>, tensor<?xi32>, tensor<?xi32>) {
  // CHECK: tfm.gather_last_tokens %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %0 = tfm.gather_last_tokens %h, %idx : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  // CHECK: tfm.argmax %{{.*}} : tensor<?x512xf32> -> tensor<?xi32>
  %1 = tfm.argmax %logits : tensor<?x512xf32> -> tensor<?xi32>
  // CHECK: tfm.sample %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x512xf32>, tensor<?xf32>, tensor<?xi32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?xi32>
  %2 = tfm.sample %logits, %t, %k, %p, %u : (tensor<?x512xf32>, tensor<?xf32>, tensor<?xi32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?xi32>
  return %0, %1, %2 : tensor<?x64xf32>, tensor<?xi32>, tensor<?xi32>
}

// Weight recipes: the short form is a checkpoint tensor as is; the others
// name how the runtime makes the packed tensor.
// CHECK-LABEL: func @weight_recipes
func.func @weight_recipes() -> (tensor<8x4xf32>, tensor<12x4xf32>, tensor<2x4xf32>) {
  // CHECK: tfm.weight "c_attn", transform = transpose, sources = ["transformer.c_attn", "c_attn"] : tensor<8x4xf32>
  %t = tfm.weight "c_attn", transform = transpose, sources = ["transformer.c_attn", "c_attn"] : tensor<8x4xf32>
  // CHECK: tfm.weight "q+k", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x4xf32>, shard = <axis = 0, index = 1, count = 2>>] : tensor<12x4xf32>
  %c = tfm.weight "q+k", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x4xf32>, shard = <axis = 0, index = 1, count = 2>>] : tensor<12x4xf32>
  // CHECK: tfm.weight "w", shard = <axis = 0, index = 0, count = 4> : tensor<2x4xf32>
  %s = tfm.weight "w", shard = <axis = 0, index = 0, count = 4> : tensor<2x4xf32>
  return %t, %c, %s : tensor<8x4xf32>, tensor<12x4xf32>, tensor<2x4xf32>
}

// The step function, marked as such; the kernel configuration and arena
// offsets are typed attributes.
// CHECK-LABEL: func @step
// CHECK-SAME: attributes {tfm.step}
// CHECK: tfm.embedding {{.*}} {tfm.arena_offsets = array<i64: 0>, tfm.kernel_config = #tfm.cpu_kernel<parallel = rows, vector_width = 16>}
// CHECK: tfm.linear {{.*}}#tfm.cpu_kernel<parallel = output_channels, vector_width = 8, row_block = 4, channel_block = 2, tile_rows = 512>
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids {tfm.arena_offsets = array<i64: 0>, tfm.kernel_config = #tfm.cpu_kernel<parallel = rows, vector_width = 16>} : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %l = tfm.linear %h, %e {tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 8, row_block = 4, channel_block = 2, tile_rows = 512>} : (tensor<?x8xf32>, tensor<10x8xf32>) -> tensor<?x10xf32>
  return %l, %kc, %vc : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// The CUDA target's configuration: defaults (thread per item, scalar,
// unblocked) are not printed.
// CHECK-LABEL: func @cuda_config
// CHECK: tfm.rms_norm {{.*}}#tfm.cuda_kernel<parallel = rows, threads = 128>
// CHECK: tfm.linear {{.*}}#tfm.cuda_kernel<parallel = output_channels, threads = 256, vector_width = 4>
func.func @cuda_config(%x: tensor<?x8xf32>, %g: tensor<8xf32>, %w: tensor<4x8xf32>) -> tensor<?x4xf32> {
  %n = tfm.rms_norm %x, %g {eps = 1.0e-05 : f64, tfm.kernel_config = #tfm.cuda_kernel<parallel = rows, strategy = thread_per_item, threads = 128>} : tensor<?x8xf32>, tensor<8xf32>
  %y = tfm.linear %n, %w {tfm.kernel_config = #tfm.cuda_kernel<parallel = output_channels, threads = 256, vector_width = 4>} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
