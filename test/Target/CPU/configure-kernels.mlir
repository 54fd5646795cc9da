// RUN: llmc-opt %s -llmc-cpu-configure-kernels=cpu=x86-64-v4 | FileCheck %s --check-prefix=AVX512
// RUN: llmc-opt %s -llmc-cpu-configure-kernels=cpu=x86-64-v3 | FileCheck %s --check-prefix=AVX2
// RUN: llmc-opt %s -llmc-cpu-configure-kernels=cpu=x86-64 | FileCheck %s --check-prefix=SSE

// The CPU's vector registers and lanes decide: one weight row per channel
// fits 4 rows x 4 channels in 32 registers (16 FMAs for 8 loads), 4 x 2 in
// 16; swiglu's two weight rows per channel, 4 x 2 and 4 x 1. Inputs of 64
// f32 make 512-row cache tiles.
// AVX512-LABEL: func.func @linears
// AVX512: tfm.linear {{.*}}tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 16, row_block = 4, channel_block = 4, tile_rows = 512>
// AVX512: tfm.linear {{.*}}#tfm.cpu_kernel<parallel = output_channels, vector_width = 16, row_block = 4, channel_block = 2, tile_rows = 512>
// AVX2-LABEL: func.func @linears
// AVX2: tfm.linear {{.*}}#tfm.cpu_kernel<parallel = output_channels, vector_width = 8, row_block = 4, channel_block = 2, tile_rows = 512>
// AVX2: tfm.linear {{.*}}#tfm.cpu_kernel<parallel = output_channels, vector_width = 8, row_block = 4, tile_rows = 512>
// SSE: tfm.linear {{.*}}#tfm.cpu_kernel<parallel = output_channels, vector_width = 4, row_block = 4, channel_block = 2, tile_rows = 512>
func.func @linears(%x: tensor<?x64xf32>) -> (tensor<?x96xf32>, tensor<?x48xf32>) {
  %w = tfm.weight "w" : tensor<96x64xf32>
  %a = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x96xf32>
  %b = tfm.linear %x, %w {epilogue = #tfm.epilogue<swiglu>} : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x48xf32>
  return %a, %b : tensor<?x96xf32>, tensor<?x48xf32>
}

// A wide input gets shorter cache tiles: 128 KiB / (4 * 4096) = 8 rows.
// AVX512-LABEL: func.func @wide
// AVX512: row_block = 4, channel_block = 4, tile_rows = 8>
func.func @wide(%x: tensor<?x4096xf32>) -> tensor<?x16xf32> {
  %w = tfm.weight "w" : tensor<16x4096xf32>
  %a = tfm.linear %x, %w : (tensor<?x4096xf32>, tensor<16x4096xf32>) -> tensor<?x16xf32>
  return %a : tensor<?x16xf32>
}

// Every kernel op gets the dimension its lowering splits; views and weights
// get nothing; a configuration written by hand is kept.
// AVX2-LABEL: func.func @others
// AVX2: tfm.weight "n" : tensor<64xf32>
// AVX2-NEXT: tfm.rms_norm {{.*}}#tfm.cpu_kernel<parallel = rows, vector_width = 8>
// AVX2-NEXT: tfm.silu {{.*}}#tfm.cpu_kernel<parallel = elements, vector_width = 8>
// AVX2-NEXT: tfm.reshape
// AVX2-NOT: kernel_config
// AVX2-SAME: -> tensor<?x4x16xf32>
// AVX2-NEXT: tfm.rope {{.*}}#tfm.cpu_kernel<parallel = heads, vector_width = 8>
// AVX2-NEXT: tfm.silu {{.*}}#tfm.cpu_kernel<parallel = elements, vector_width = 2>
func.func @others(%x: tensor<?x64xf32>, %pos: tensor<?xi32>) -> (tensor<?x4x16xf32>, tensor<?x64xf32>) {
  %w = tfm.weight "n" : tensor<64xf32>
  %n = tfm.rms_norm %x, %w {eps = 1.0e-5 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %s = tfm.silu %n : tensor<?x64xf32>
  %r = tfm.reshape %s : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %q = tfm.rope %r, %pos {rope = #tfm.rope<theta = 10000.0, rotary_dim = 16>} : tensor<?x4x16xf32>, tensor<?xi32>
  %t = tfm.silu %x {tfm.kernel_config = #tfm.cpu_kernel<parallel = elements, vector_width = 2>} : tensor<?x64xf32>
  return %q, %t : tensor<?x4x16xf32>, tensor<?x64xf32>
}
