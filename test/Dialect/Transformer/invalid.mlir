// RUN: llmc-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect

func.func @weight_dynamic() {
  // expected-error @+1 {{weight recipe 'w': type must be a static f32, bf16, f16 or i8 tensor, got 'tensor<?x4xf32>'}}
  %0 = tfm.weight "w" : tensor<?x4xf32>
  return
}

// -----

func.func @weight_int16() {
  // expected-error @+1 {{weight recipe 'w': type must be a static f32, bf16, f16 or i8 tensor, got 'tensor<4x4xi16>'}}
  %0 = tfm.weight "w" : tensor<4x4xi16>
  return
}

// -----

func.func @weight_int8_no_scale() {
  // expected-error @+1 {{weight recipe 'w': an i8 (int8 rows) recipe is [rows, k + 4] with k >= 1, got 'tensor<4x4xi8>'}}
  %0 = tfm.weight "w" : tensor<4x4xi8>
  return
}

// -----

func.func @weight_int8_parts() {
  // expected-error @+1 {{weight recipe 'qk': part 'k' of type 'tensor<4x8xf32>' does not stack along dimension 0 into 'tensor<12x8xi8>'}}
  %0 = tfm.weight "qk", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x8xf32>>] : tensor<12x8xi8>
  return
}

// -----

func.func @linear_int8_width(%x: tensor<?x4xf32>, %w: tensor<8x4xi8>) {
  // expected-error @+1 {{'tfm.linear' op int8 weight rows must hold input dimension 1 (4) values and a 4-byte scale, got 4 bytes}}
  %0 = tfm.linear %x, %w : (tensor<?x4xf32>, tensor<8x4xi8>) -> tensor<?x8xf32>
  return
}

// -----

// A narrow weight is storage of f32 only: never wider, never of f16 math.
func.func @linear_weight_wider(%x: tensor<?x4xf16>, %w: tensor<8x4xf32>) {
  // expected-error @+1 {{'tfm.linear' op weight element type 'f32' is neither input's ('f16') nor a bf16/f16 storage of f32}}
  %0 = tfm.linear %x, %w : (tensor<?x4xf16>, tensor<8x4xf32>) -> tensor<?x8xf16>
  return
}

// -----

func.func @linear_weight_bf16_of_f16(%x: tensor<?x4xf16>, %w: tensor<8x4xbf16>) {
  // expected-error @+1 {{'tfm.linear' op weight element type 'bf16' is neither input's ('f16') nor a bf16/f16 storage of f32}}
  %0 = tfm.linear %x, %w : (tensor<?x4xf16>, tensor<8x4xbf16>) -> tensor<?x8xf16>
  return
}

// -----

func.func @weight_unnamed() {
  // expected-error @+1 {{weight recipe name must not be empty}}
  %0 = tfm.weight "" : tensor<4xf32>
  return
}

// -----

func.func @embedding_width(%t: tensor<512x64xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.embedding' op result dimension 1 (32) does not match table dimension 1 (64)}}
  %0 = tfm.embedding %t, %ids : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return
}

// -----

func.func @embedding_ids_rank(%t: tensor<512x64xf32>, %ids: tensor<?x2xi32>) {
  // expected-error @+1 {{'tfm.embedding' op ids must have rank 1, got 2}}
  %0 = tfm.embedding %t, %ids : (tensor<512x64xf32>, tensor<?x2xi32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @embedding_elem(%t: tensor<512x64xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.embedding' op table element type 'f32' is neither result's ('f16') nor a bf16/f16 storage of f32}}
  %0 = tfm.embedding %t, %ids : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x64xf16>
  return
}

// -----

func.func @rms_norm_weight(%x: tensor<?x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op weight dimension 0 (32) does not match input dimension 1 (64)}}
  %0 = tfm.rms_norm %x, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<32xf32>
  return
}

// -----

func.func @rms_norm_eps(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'tfm.rms_norm' op eps must be non-negative, got -1}}
  %0 = tfm.rms_norm %x, %w {eps = -1.0 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @add_rms_norm_weight(%x: tensor<?x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'tfm.add_rms_norm' op weight dimension 0 (32) does not match input dimension 1 (64)}}
  %s, %n = tfm.add_rms_norm %x, %x, %w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<32xf32>
  return
}

// -----

func.func @add_layer_norm_eps(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'tfm.add_layer_norm' op eps must be non-negative, got -1}}
  %s, %n = tfm.add_layer_norm %x, %x, %w, %w {eps = -1.0 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x64xf32>, %w: tensor<64xf32>, %b: tensor<64x1xf32>) {
  // expected-error @+1 {{'tfm.layer_norm' op bias must have rank 1, got 2}}
  %0 = tfm.layer_norm %x, %w, %b {eps = 1.0e-5 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64x1xf32>
  return
}

// -----

func.func @add_types(%x: tensor<?x64xf32>, %y: tensor<?x32xf32>) {
  // expected-error @+1 {{'tfm.add' op all non-scalar operands/results must have the same shape and base type}}
  %0 = "tfm.add"(%x, %y) : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @add_int(%x: tensor<4xi32>) {
  // expected-error @+1 {{'tfm.add' op operand #0 must be ranked tensor of floating-point values}}
  %0 = "tfm.add"(%x, %x) : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'tfm.softmax' op axis 2 is out of range for rank 2}}
  %0 = tfm.softmax %x {axis = 2 : i64} : tensor<?x64xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<?x64xf32>, %w: tensor<96x32xf32>) {
  // expected-error @+1 {{'tfm.linear' op weight dimension 1 (32) does not match input dimension 1 (64)}}
  %0 = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<96x32xf32>) -> tensor<?x96xf32>
  return
}

// -----

func.func @linear_n(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>) {
  // expected-error @+1 {{'tfm.linear' op result dimension 1 (64) does not match weight dimension 0 (96)}}
  %0 = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_swiglu(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>) {
  // expected-error @+1 {{'tfm.linear' op swiglu result width (96) must be half the weight's 96 rows}}
  %0 = tfm.linear %x, %w {epilogue = #tfm.epilogue<swiglu>} : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x96xf32>
  return
}

// -----

func.func @qkv_rows(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>, %p: tensor<?xi32>, %kc: tensor<?x16x2x16xf32>) {
  // expected-error @+1 {{'tfm.qkv_rope_cache' op weight must have (heads + 2 * kv_heads) * head_dim = 128 rows, got 96}}
  %q, %k, %v = tfm.qkv_rope_cache %x, %w positions(%p) slots(%p) caches(%kc, %kc) rope <theta = 10000.0, rotary_dim = 16> : tensor<?x64xf32>, tensor<96x64xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16x2x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

func.func @qkv_dynamic(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %p: tensor<?xi32>, %kc: tensor<?x16x2x16xf32>) {
  // expected-error @+1 {{'tfm.qkv_rope_cache' op rope scaling 'dynamic' requires the seq_ids operand}}
  %q, %k, %v = tfm.qkv_rope_cache %x, %w positions(%p) slots(%p) caches(%kc, %kc) rope <theta = 10000.0, rotary_dim = 16, scaling = dynamic, factor = 2.0, original_max_positions = 32> : tensor<?x64xf32>, tensor<128x64xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?x16x2x16xf32> -> tensor<?x4x16xf32>
  return
}

// -----

func.func @linear_residual(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>, %r: tensor<?x64xf32>) {
  // expected-error @+1 {{'tfm.linear' op residual type 'tensor<?x64xf32>' does not match result type 'tensor<?x96xf32>'}}
  %0 = tfm.linear %x, %w residual(%r) : (tensor<?x64xf32>, tensor<96x64xf32>, tensor<?x64xf32>) -> tensor<?x96xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x64xf32>, %w: tensor<96x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'tfm.linear' op bias dimension 0 (64) does not match weight dimension 0 (96)}}
  %0 = tfm.linear %x, %w, %b : (tensor<?x64xf32>, tensor<96x64xf32>, tensor<64xf32>) -> tensor<?x96xf32>
  return
}

// -----

func.func @matmul_k(%a: tensor<8x16xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{'tfm.matmul' op rhs dimension 0 (8) does not match lhs dimension 1 (16)}}
  %0 = tfm.matmul %a, %b : (tensor<8x16xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x8x16xf32>, %b: tensor<3x16x4xf32>) {
  // expected-error @+1 {{'tfm.matmul' op rhs dimension 0 (3) does not match lhs dimension 0 (2)}}
  %0 = tfm.matmul %a, %b : (tensor<2x8x16xf32>, tensor<3x16x4xf32>) -> tensor<2x8x4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<16xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'tfm.matmul' op lhs must have rank >= 2, got 1}}
  %0 = tfm.matmul %a, %b : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @rope_rank(%q: tensor<?x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.rope' op input must have rank 3, got 2}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 64>} : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_rotary(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope rotary_dim must be positive and even, got 15}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 15>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_theta(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope theta must be positive, got 0.000000e+00}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 0.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_linear_factor(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope scaling 'linear' requires 'factor'}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = linear>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_llama3(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope scaling 'llama3' requires 'low_freq_factor'}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = llama3, factor = 8.0>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_llama3_band(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope high_freq_factor must exceed low_freq_factor (both positive)}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = llama3, factor = 8.0, low_freq_factor = 4.0, high_freq_factor = 1.0, original_max_positions = 8192>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_dynamic(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope scaling 'dynamic' requires 'original_max_positions'}}
  %0 = tfm.rope %q, %p, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = dynamic, factor = 2.0>} : tensor<?x4x16xf32>, tensor<?xi32>, tensor<?xi32>
  return
}

// -----

func.func @rope_dynamic_seq(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.rope' op rope scaling 'dynamic' requires the seq_ids operand}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, scaling = dynamic, factor = 2.0, original_max_positions = 2048>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_positions(%q: tensor<8x4x16xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'tfm.rope' op positions dimension 0 (4) does not match input dimension 0 (8)}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<8x4x16xf32>, tensor<4xi32>
  return
}

// -----

func.func @kv_write_heads(%c: tensor<?x16x2x16xf32>, %v: tensor<?x4x16xf32>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.kv_cache_write' op values dimension 1 (4) does not match cache dimension 2 (2)}}
  %0 = tfm.kv_cache_write %c, %v, %s : tensor<?x16x2x16xf32>, tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @kv_write_static(%c: tensor<?x?x2x16xf32>, %v: tensor<?x2x16xf32>, %s: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.kv_cache_write' op cache dimensions 1-3 (block_size, kv_heads, head_dim) must be static}}
  %0 = tfm.kv_cache_write %c, %v, %s : tensor<?x?x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<?x3x16xf32>, %c: tensor<?x16x2x16xf32>, %bt: tensor<?x?xi32>, %s: tensor<?xi32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.attention' op query heads (3) must be a multiple of kv heads (2)}}
  %0 = tfm.attention %q, %c, %c, %bt, %s, %p {scale = 0.25 : f64} : (tensor<?x3x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x3x16xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<?x4x8xf32>, %c: tensor<?x16x2x16xf32>, %bt: tensor<?x?xi32>, %s: tensor<?xi32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.attention' op query dimension 2 (8) does not match key_cache dimension 3 (16)}}
  %0 = tfm.attention %q, %c, %c, %bt, %s, %p {scale = 0.25 : f64} : (tensor<?x4x8xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x8xf32>
  return
}

// -----

func.func @attention_caches(%q: tensor<?x4x16xf32>, %k: tensor<?x16x2x16xf32>, %v: tensor<?x8x2x16xf32>, %bt: tensor<?x?xi32>, %s: tensor<?xi32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.attention' op key_cache type 'tensor<?x16x2x16xf32>' does not match value_cache type 'tensor<?x8x2x16xf32>'}}
  %0 = tfm.attention %q, %k, %v, %bt, %s, %p {scale = 0.25 : f64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x8x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @attention_window(%q: tensor<?x4x16xf32>, %c: tensor<?x16x2x16xf32>, %bt: tensor<?x?xi32>, %s: tensor<?xi32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.attention' op sliding_window must be positive, got 0}}
  %0 = tfm.attention %q, %c, %c, %bt, %s, %p {scale = 0.25 : f64, sliding_window = 0 : i64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @attention_tables(%q: tensor<?x4x16xf32>, %c: tensor<?x16x2x16xf32>, %bt: tensor<?xi32>, %s: tensor<?xi32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.attention' op block_tables must have rank 2, got 1}}
  %0 = tfm.attention %q, %c, %c, %bt, %s, %p {scale = 0.25 : f64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x16xf32>) {
  // expected-error @+1 {{'tfm.reshape' op input has 64 elements but result has 60}}
  %0 = tfm.reshape %x : tensor<4x16xf32> -> tensor<6x10xf32>
  return
}

// -----

func.func @reshape_dynamic(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'tfm.reshape' op result may have at most one dynamic dimension}}
  %0 = tfm.reshape %x : tensor<?x64xf32> -> tensor<?x?x16xf32>
  return
}

// -----

func.func @transpose_perm(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.transpose' op permutation is not a permutation of [0, 2)}}
  %0 = tfm.transpose %x {permutation = array<i64: 0, 0>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_shape(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'tfm.transpose' op result dimension 0 (2) does not match input dimension 1 (3)}}
  %0 = tfm.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_sum(%x: tensor<?x64xf32>, %y: tensor<?x32xf32>) {
  // expected-error @+1 {{'tfm.concat' op inputs add up to 96 along axis 1 but result has 100}}
  %0 = tfm.concat %x, %y {axis = 1 : i64} : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x100xf32>
  return
}

// -----

func.func @split_sum(%x: tensor<?x96xf32>) {
  // expected-error @+1 {{'tfm.split' op results add up to 64 along axis 1 but input has 96}}
  %0:2 = tfm.split %x {axis = 1 : i64} : tensor<?x96xf32> -> tensor<?x32xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @slice_range(%x: tensor<?x32xf32>) {
  // expected-error @+1 {{'tfm.slice' op range [24, 40) exceeds input size 32 on axis 1}}
  %0 = tfm.slice %x {axis = 1 : i64, start = 24 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @gather_width(%h: tensor<?x64xf32>, %i: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.gather_last_tokens' op result dimension 1 (32) does not match input dimension 1 (64)}}
  %0 = tfm.gather_last_tokens %h, %i : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return
}

// -----

func.func @send_peer(%x: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.send' op peer must be a pipeline stage >= 0, got -1}}
  tfm.send %x {peer = -1 : i64} : tensor<4xf32>
  return
}

// -----

func.func @recv_peer(%ids: tensor<4xi32>) {
  // expected-error @+1 {{'tfm.recv' op peer must be a pipeline stage >= 0, got -2}}
  %0 = tfm.recv %ids {peer = -2 : i64} : tensor<4xi32> -> tensor<4xf32>
  return
}

// -----

func.func @recv_rows(%ids: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.recv' op result 'tensor<4x8xf32>' must have the rows (dimension 0) of 'tensor<?xi32>'}}
  %0 = tfm.recv %ids {peer = 0 : i64} : tensor<?xi32> -> tensor<4x8xf32>
  return
}

// -----

func.func @recv_dynamic(%ids: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.recv' op result dimension 1 is dynamic; only the rows may be}}
  %0 = tfm.recv %ids {peer = 0 : i64} : tensor<?xi32> -> tensor<?x?xf32>
  return
}

// -----

func.func @argmax_rows(%l: tensor<4x512xf32>) {
  // expected-error @+1 {{'tfm.argmax' op result dimension 0 (3) does not match logits dimension 0 (4)}}
  %0 = tfm.argmax %l : tensor<4x512xf32> -> tensor<3xi32>
  return
}

// -----

func.func @sample_rows(%l: tensor<4x512xf32>, %t: tensor<4xf32>, %k: tensor<4xi32>, %p: tensor<2xf32>, %u: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.sample' op top_p dimension 0 (2) does not match logits dimension 0 (4)}}
  %0 = tfm.sample %l, %t, %k, %p, %u : (tensor<4x512xf32>, tensor<4xf32>, tensor<4xi32>, tensor<2xf32>, tensor<4xf32>) -> tensor<4xi32>
  return
}

// -----

func.func @rope_wider_than_head(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tfm.rope' op rope rotary_dim 32 exceeds head_dim 16}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 32>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_unused_parameter(%q: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{rope scaling 'default' does not use 'factor'}}
  %0 = tfm.rope %q, %p {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16, factor = 2.0>} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @recipe_concat_without_parts() {
  // expected-error @+1 {{weight recipe 'w': transform 'concat' needs parts}}
  %w = tfm.weight "w", transform = concat : tensor<8x4xf32>
  return
}

// -----

func.func @recipe_parts_do_not_stack() {
  // expected-error @+1 {{weight recipe 'q+k': part 'k' of type 'tensor<4x8xf32>' does not stack along dimension 0 into 'tensor<12x4xf32>'}}
  %w = tfm.weight "q+k", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x8xf32>>] : tensor<12x4xf32>
  return
}

// -----

func.func @recipe_parts_rows() {
  // expected-error @+1 {{weight recipe 'q+k': parts stack to 12 rows, not 16}}
  %w = tfm.weight "q+k", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>, #tfm.recipe<"k" : tensor<4x4xf32>>] : tensor<16x4xf32>
  return
}

// -----

func.func @recipe_nested_concat() {
  // expected-error @+1 {{weight recipe 'a+b': part 'a' must be a checkpoint tensor, not a concat}}
  %w = tfm.weight "a+b", transform = concat, parts = [#tfm.recipe<"a" : tensor<8x4xf32>, transform = concat, parts = [#tfm.recipe<"x" : tensor<8x4xf32>>]>] : tensor<8x4xf32>
  return
}

// -----

func.func @recipe_sharded_concat() {
  // expected-error @+1 {{weight recipe 'q+k': a concat is not sharded; its parts are}}
  %w = tfm.weight "q+k", transform = concat, parts = [#tfm.recipe<"q" : tensor<8x4xf32>>], shard = <axis = 0, index = 0, count = 2> : tensor<8x4xf32>
  return
}

// -----

func.func @recipe_transpose_rank() {
  // expected-error @+1 {{weight recipe 'b': transform 'transpose' needs a 2-D tensor}}
  %w = tfm.weight "b", transform = transpose : tensor<8xf32>
  return
}

// -----

func.func @recipe_shard_axis() {
  // expected-error @+1 {{weight recipe 'b': shard axis 1 is out of range for 'tensor<8xf32>'}}
  %w = tfm.weight "b", shard = <axis = 1, index = 0, count = 2> : tensor<8xf32>
  return
}

// -----

func.func @recipe_shard_index() {
  // expected-error @+1 {{shard index 2 must be in [0, 2)}}
  %w = tfm.weight "b", shard = <axis = 0, index = 2, count = 2> : tensor<8xf32>
  return
}

// -----

func.func @recipe_unknown_field() {
  // expected-error @+1 {{unknown weight recipe field 'dtype' (transform, sources, parts, shard)}}
  %w = tfm.weight "b", dtype = f32 : tensor<8xf32>
  return
}

// -----

func.func @recipe_unknown_transform() {
  // expected-error @+1 {{unknown weight transform 'flip' (none, transpose, concat)}}
  %w = tfm.weight "b", transform = flip : tensor<8xf32>
  return
}

// -----

func.func @weight_type_not_recipe() {
  // expected-error @+1 {{'tfm.weight' op recipe type 'tensor<4xf32>' does not match result type 'tensor<8xf32>'}}
  %w = "tfm.weight"() {recipe = #tfm.recipe<"b" : tensor<4xf32>>} : () -> tensor<8xf32>
  return
}

// -----

// expected-error @+1 {{'func.func' op is not a valid step function: operand #4 (block_tables) must be tensor<?x?xi32>, got tensor<?xi32>}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %w = tfm.weight "w" : tensor<8x10xf32>
  %l = tfm.embedding %w, %ids : (tensor<8x10xf32>, tensor<?xi32>) -> tensor<?x10xf32>
  return %l, %kc, %vc : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// expected-error @+1 {{'func.func' op is not a valid step function: expected the 6 batch inputs (token_ids, positions, seq_ids, slot_mapping, block_tables, logits_indices) followed by a K and a V cache per layer}}
func.func @step(%ids: tensor<?xi32>) -> tensor<?x10xf32> attributes {tfm.step} {
  %w = tfm.weight "w" : tensor<8x10xf32>
  %l = tfm.embedding %w, %ids : (tensor<8x10xf32>, tensor<?xi32>) -> tensor<?x10xf32>
  return %l : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'func.func' op is not a valid step function: operand #8 has blocks of 8 tokens, the first cache 4: every cache shares one block size}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>, %kc2: tensor<?x8x1x8xf32>, %vc2: tensor<?x8x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x8x1x8xf32>, tensor<?x8x1x8xf32>) attributes {tfm.step} {
  %w = tfm.weight "w" : tensor<8x10xf32>
  %l = tfm.embedding %w, %ids : (tensor<8x10xf32>, tensor<?xi32>) -> tensor<?x10xf32>
  return %l, %kc, %vc, %kc2, %vc2 : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x8x1x8xf32>, tensor<?x8x1x8xf32>
}

// -----

// expected-error @+1 {{'func.func' op is not a valid step function: result #2 must have the type of its cache operand}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %w = tfm.weight "w" : tensor<8x10xf32>
  %l = tfm.embedding %w, %ids : (tensor<8x10xf32>, tensor<?xi32>) -> tensor<?x10xf32>
  %c = "test.cast"(%vc) : (tensor<?x4x1x8xf32>) -> tensor<?x4x2x8xf32>
  return %l, %kc, %c : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// expected-error @+1 {{'func.return' op attribute 'tfm.step' must be a unit attribute on a func.func}}
"func.return"() {tfm.step} : () -> ()

// -----

func.func @kernel_config(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cpu_kernel tile_rows (6) must be a non-negative multiple of row_block (4)}}
  %y = tfm.linear %x, %w {tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 8, row_block = 4, tile_rows = 6>} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @cuda_kernel_threads(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cuda_kernel threads (100) must be a multiple of 32 in [32, 1024]}}
  %y = tfm.linear %x, %w {tfm.kernel_config = #tfm.cuda_kernel<parallel = output_channels, threads = 100>} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @kernel_config_type(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'tfm.silu' op attribute 'tfm.kernel_config' must be a kernel configuration (#tfm.cpu_kernel, #tfm.cuda_kernel) on a tfm op with results}}
  %y = tfm.silu %x {tfm.kernel_config = 3 : i64} : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @arena_offsets(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'tfm.silu' op attribute 'tfm.arena_offsets' must be an array of one offset per result}}
  %y = tfm.silu %x {tfm.arena_offsets = array<i64: 0, 64>} : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Sizes past llmc's limits (a hand-written step's products must fit in 64
// bits): refused where the type appears.
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  // expected-error @+1 {{'tfm.weight' op has a tensor of type 'tensor<9223372036854775807x8xf32>' whose size is past llmc's limits (dimensions up to 2^32, 2^48 elements)}}
  %e = tfm.weight "embed" : tensor<9223372036854775807x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<9223372036854775807x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}

// -----

// 2^25 x 2^25 elements: each dimension is allowed, their product is not.
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  // expected-error @+1 {{whose size is past llmc's limits}}
  %w = tfm.weight "w" : tensor<33554432x33554432xf32>
  %e = tfm.weight "embed" : tensor<16x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<16x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
