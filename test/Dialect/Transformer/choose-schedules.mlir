// RUN: llmc-opt %s -tfm-choose-schedules=vector-registers=32 | FileCheck %s --check-prefix=AVX512
// RUN: llmc-opt %s -tfm-choose-schedules=vector-registers=16 | FileCheck %s --check-prefix=AVX2
// RUN: llmc-opt %s -tfm-choose-schedules=vector-registers=4 | FileCheck %s --check-prefix=TINY
// RUN: not llmc-opt %s -tfm-choose-schedules=vector-registers=2 2>&1 | FileCheck %s --check-prefix=ERR

// One weight row per channel: 32 registers fit 4 rows x 4 channels (16
// FMAs for 8 loads); 16 fit 4 x 2 (8 FMAs for 6 loads). Swiglu needs two
// weight rows per channel: 4 x 2 and 4 x 1.
// AVX512-LABEL: func.func @linears
// AVX512: tfm.linear {{.*}}llmc.schedule = {channel_block = 4 : i64, row_block = 4 : i64, tile_rows = 512 : i64}
// AVX512: tfm.linear {{.*}}llmc.schedule = {channel_block = 2 : i64, row_block = 4 : i64, tile_rows = 512 : i64}
// AVX2-LABEL: func.func @linears
// AVX2: tfm.linear {{.*}}llmc.schedule = {channel_block = 2 : i64, row_block = 4 : i64, tile_rows = 512 : i64}
// AVX2: tfm.linear {{.*}}llmc.schedule = {channel_block = 1 : i64, row_block = 4 : i64, tile_rows = 512 : i64}
// TINY: tfm.linear {{.*}}llmc.schedule = {channel_block = 1 : i64, row_block = 2 : i64, tile_rows = 512 : i64}
// TINY: tfm.linear {{.*}}llmc.schedule = {channel_block = 1 : i64, row_block = 1 : i64, tile_rows = 512 : i64}
// ERR: vector-registers must be at least 3

func.func @linears(%x: tensor<?x64xf32>) -> (tensor<?x96xf32>, tensor<?x48xf32>) {
  %w = tfm.weight "w" : tensor<96x64xf32>
  %a = tfm.linear %x, %w : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x96xf32>
  %b = tfm.linear %x, %w {epilogue = #tfm.epilogue<swiglu>} : (tensor<?x64xf32>, tensor<96x64xf32>) -> tensor<?x48xf32>
  return %a, %b : tensor<?x96xf32>, tensor<?x48xf32>
}

// A wide input gets shorter cache tiles: 128 KiB / (4 * 4096) = 8 rows.
// AVX512-LABEL: func.func @wide
// AVX512: llmc.schedule = {channel_block = 4 : i64, row_block = 4 : i64, tile_rows = 8 : i64}
func.func @wide(%x: tensor<?x4096xf32>) -> tensor<?x16xf32> {
  %w = tfm.weight "w" : tensor<16x4096xf32>
  %a = tfm.linear %x, %w : (tensor<?x4096xf32>, tensor<16x4096xf32>) -> tensor<?x16xf32>
  return %a : tensor<?x16xf32>
}
