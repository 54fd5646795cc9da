// A 2-layer Llama-style decoder step in the tfm dialect, written by hand.
// Shapes follow a tiny Llama (hidden 64, 4 query heads, 2 KV heads, head_dim
// 16, MLP 176, vocab 512, KV blocks of 16 tokens). One call runs one
// scheduler step over a ragged batch of T tokens from S sequences:
//   token_ids, positions, seq_ids, slot_mapping : [T]
//   block_tables : [S, max_blocks]     logits_indices : [R] (rows needing logits)
// and returns the logits of those rows plus the updated KV caches.
func.func @step(%token_ids: tensor<?xi32>,
                 %positions: tensor<?xi32>,
                 %seq_ids: tensor<?xi32>,
                 %slot_mapping: tensor<?xi32>,
                 %block_tables: tensor<?x?xi32>,
                 %logits_indices: tensor<?xi32>,
                 %k_cache_0: tensor<?x16x2x16xf32>,
                 %v_cache_0: tensor<?x16x2x16xf32>,
                 %k_cache_1: tensor<?x16x2x16xf32>,
                 %v_cache_1: tensor<?x16x2x16xf32>)
    -> (tensor<?x512xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>)
    attributes {tfm.step} {
  %embed = tfm.weight "model.embed_tokens.weight" : tensor<512x64xf32>
  %h0 = tfm.embedding %embed, %token_ids : (tensor<512x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>

  // Layer 0: pre-norm attention block.
  %ln1_w0 = tfm.weight "model.layers.0.input_layernorm.weight" : tensor<64xf32>
  %x0 = tfm.rms_norm %h0, %ln1_w0 {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %qw0 = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
  %qp0 = tfm.linear %x0, %qw0 : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %qh0 = tfm.reshape %qp0 : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %kw0 = tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32>
  %kp0 = tfm.linear %x0, %kw0 : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %kh0 = tfm.reshape %kp0 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %vw0 = tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xf32>
  %vp0 = tfm.linear %x0, %vw0 : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %vh0 = tfm.reshape %vp0 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %qr0 = tfm.rope %qh0, %positions {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  %kr0 = tfm.rope %kh0, %positions {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x2x16xf32>, tensor<?xi32>
  %kc0 = tfm.kv_cache_write %k_cache_0, %kr0, %slot_mapping : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %vc0 = tfm.kv_cache_write %v_cache_0, %vh0, %slot_mapping : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %att0 = tfm.attention %qr0, %kc0, %vc0, %block_tables, %seq_ids, %positions {scale = 0.25 : f64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  %attf0 = tfm.reshape %att0 : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %ow0 = tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<64x64xf32>
  %o0 = tfm.linear %attf0, %ow0 : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %r0 = tfm.add %h0, %o0 : tensor<?x64xf32>
  // Layer 0: pre-norm SwiGLU MLP.
  %ln2_w0 = tfm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
  %y0 = tfm.rms_norm %r0, %ln2_w0 {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %gatew0 = tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<176x64xf32>
  %gate0 = tfm.linear %y0, %gatew0 : (tensor<?x64xf32>, tensor<176x64xf32>) -> tensor<?x176xf32>
  %upw0 = tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<176x64xf32>
  %up0 = tfm.linear %y0, %upw0 : (tensor<?x64xf32>, tensor<176x64xf32>) -> tensor<?x176xf32>
  %act0 = tfm.silu %gate0 : tensor<?x176xf32>
  %gu0 = tfm.mul %act0, %up0 : tensor<?x176xf32>
  %dw0 = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<64x176xf32>
  %down0 = tfm.linear %gu0, %dw0 : (tensor<?x176xf32>, tensor<64x176xf32>) -> tensor<?x64xf32>
  %h1 = tfm.add %r0, %down0 : tensor<?x64xf32>

  // Layer 1: pre-norm attention block.
  %ln1_w1 = tfm.weight "model.layers.1.input_layernorm.weight" : tensor<64xf32>
  %x1 = tfm.rms_norm %h1, %ln1_w1 {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %qw1 = tfm.weight "model.layers.1.self_attn.q_proj.weight" : tensor<64x64xf32>
  %qp1 = tfm.linear %x1, %qw1 : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %qh1 = tfm.reshape %qp1 : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %kw1 = tfm.weight "model.layers.1.self_attn.k_proj.weight" : tensor<32x64xf32>
  %kp1 = tfm.linear %x1, %kw1 : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %kh1 = tfm.reshape %kp1 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %vw1 = tfm.weight "model.layers.1.self_attn.v_proj.weight" : tensor<32x64xf32>
  %vp1 = tfm.linear %x1, %vw1 : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
  %vh1 = tfm.reshape %vp1 : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %qr1 = tfm.rope %qh1, %positions {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  %kr1 = tfm.rope %kh1, %positions {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x2x16xf32>, tensor<?xi32>
  %kc1 = tfm.kv_cache_write %k_cache_1, %kr1, %slot_mapping : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %v_cache_1, %vh1, %slot_mapping : tensor<?x16x2x16xf32>, tensor<?x2x16xf32>, tensor<?xi32>
  %att1 = tfm.attention %qr1, %kc1, %vc1, %block_tables, %seq_ids, %positions {scale = 0.25 : f64} : (tensor<?x4x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x16xf32>
  %attf1 = tfm.reshape %att1 : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %ow1 = tfm.weight "model.layers.1.self_attn.o_proj.weight" : tensor<64x64xf32>
  %o1 = tfm.linear %attf1, %ow1 : (tensor<?x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  %r1 = tfm.add %h1, %o1 : tensor<?x64xf32>
  // Layer 1: pre-norm SwiGLU MLP.
  %ln2_w1 = tfm.weight "model.layers.1.post_attention_layernorm.weight" : tensor<64xf32>
  %y1 = tfm.rms_norm %r1, %ln2_w1 {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %gatew1 = tfm.weight "model.layers.1.mlp.gate_proj.weight" : tensor<176x64xf32>
  %gate1 = tfm.linear %y1, %gatew1 : (tensor<?x64xf32>, tensor<176x64xf32>) -> tensor<?x176xf32>
  %upw1 = tfm.weight "model.layers.1.mlp.up_proj.weight" : tensor<176x64xf32>
  %up1 = tfm.linear %y1, %upw1 : (tensor<?x64xf32>, tensor<176x64xf32>) -> tensor<?x176xf32>
  %act1 = tfm.silu %gate1 : tensor<?x176xf32>
  %gu1 = tfm.mul %act1, %up1 : tensor<?x176xf32>
  %dw1 = tfm.weight "model.layers.1.mlp.down_proj.weight" : tensor<64x176xf32>
  %down1 = tfm.linear %gu1, %dw1 : (tensor<?x176xf32>, tensor<64x176xf32>) -> tensor<?x64xf32>
  %h2 = tfm.add %r1, %down1 : tensor<?x64xf32>

  // Logits only for the rows that sample.
  %last = tfm.gather_last_tokens %h2, %logits_indices : (tensor<?x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %norm_w = tfm.weight "model.norm.weight" : tensor<64xf32>
  %final = tfm.rms_norm %last, %norm_w {eps = 1.0e-6 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %head = tfm.weight "lm_head.weight" : tensor<512x64xf32>
  %logits = tfm.linear %final, %head : (tensor<?x64xf32>, tensor<512x64xf32>) -> tensor<?x512xf32>
  return %logits, %kc0, %vc0, %kc1, %vc1 : tensor<?x512xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>, tensor<?x16x2x16xf32>
}
