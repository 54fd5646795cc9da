// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The linear family: tfm.linear (register-blocked, weight-stationary, with
// its epilogues) and tfm.matmul.

// Configured for x86-64-v2 (16 vector registers): token tiles of 2048 rows
// (128 KiB of 16-wide inputs), this invocation's output channels in blocks
// of 2, token rows in blocks of 4; one pass over k holds 8 accumulators,
// each weight load feeds 4 rows. Bias after the reduction.
// CHECK-LABEL: func.func @linear_0(%arg0: memref<?x16xf32>, %arg1: memref<16x16xf32>, %arg2: memref<16xf32>, %arg3: memref<?x16xf32>, %arg4: index, %arg5: index)
// CHECK: %[[CB:.*]] = arith.minui %arg4, %c16
// CHECK: %[[CE:.*]] = arith.minui %arg5, %c16
// CHECK: %[[ROWS:.*]] = memref.dim %arg0, %c0
// CHECK: scf.for %[[T0:.*]] = %c0 to %[[ROWS]] step %c2048 {
// CHECK:   %[[T1E:.*]] = arith.addi %[[T0]], %c2048
// CHECK:   %[[T1:.*]] = arith.minui %[[T1E]], %[[ROWS]]
// CHECK:   scf.for %[[N:.*]] = %[[CB]] to %{{.*}} step %c2 {
// CHECK:     %[[N1:.*]] = arith.addi %[[N]], %c1
// CHECK:     scf.for %[[M:.*]] = %[[T0]] to %{{.*}} step %c4 {
// CHECK:       %[[ACC:.*]]:8 = scf.for %[[K:.*]] = %c0 to %c16 step %c1 iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:         %[[X0:.*]] = memref.load %arg0[%[[M]], %[[K]]]
// CHECK-COUNT-3: memref.load %arg0
// CHECK:         %[[WV:.*]] = memref.load %arg1[%[[N]], %[[K]]]
// CHECK:         %[[P:.*]] = arith.mulf %[[X0]], %[[WV]] fastmath<reassoc,contract>
// CHECK:         arith.addf %{{.*}}, %[[P]] fastmath<reassoc,contract>
// CHECK:         memref.load %arg1[%[[N1]], %[[K]]]
// CHECK:         scf.yield
// CHECK:       %[[BV:.*]] = memref.load %arg2[%[[N]]]
// CHECK:       %[[Y:.*]] = arith.addf %[[ACC]]#0, %[[BV]]
// CHECK:       memref.store %[[Y]], %arg3[%[[M]], %[[N]]]
// CHECK-COUNT-7: memref.store %{{.*}}, %arg3
// The remainders: rows one at a time, then channels one at a time.
// CHECK:     scf.for %{{.*}} = %{{.*}} to %[[T1]] step %c1 {
// CHECK:       scf.for {{.*}} -> (f32, f32) {
// CHECK:   scf.for %{{.*}} = %{{.*}} to %[[CE]] step %c1 {

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "w" : tensor<16x16xf32>
  %b = tfm.weight "b" : tensor<16xf32>
  %n = tfm.linear %h, %w, %b : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// SwiGLU with the chosen schedule (2 rows x 1 channel, 4-row tiles): each
// output channel n reads weight rows n (gate) and n + 16 (up), and stores
// silu(gate + bias) * (up + bias).
// CHECK-LABEL: func.func @linear_0
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<32x16xf32>, %[[B:[a-z0-9]+]]: memref<32xf32>
// CHECK: scf.for %[[T0:.*]] = %c0 to %{{.*}} step %c4 {
// CHECK:   scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:     scf.for %[[M:.*]] = %[[T0]] to %{{.*}} step %c2 {
// CHECK:       %[[UPROW:.*]] = arith.addi %[[N]], %c16
// CHECK:       %[[ACC:.*]]:4 = scf.for {{.*}} -> (f32, f32, f32, f32) {
// CHECK:         memref.load %[[W]][%[[N]], %{{.*}}]
// CHECK:         memref.load %[[W]][%[[UPROW]], %{{.*}}]
// CHECK:       %[[UB:.*]] = memref.load %[[B]][%[[UPROW]]]
// CHECK:       %[[UP:.*]] = arith.addf %[[ACC]]#2, %[[UB]]
// CHECK:       %[[GB:.*]] = memref.load %[[B]][%[[N]]]
// CHECK:       %[[G:.*]] = arith.addf %[[ACC]]#0, %[[GB]]
// CHECK:       %[[NG:.*]] = arith.negf %[[G]]
// CHECK:       %[[E:.*]] = math.exp %[[NG]]
// CHECK:       %[[D:.*]] = arith.addf %[[E]], %{{.*}}
// CHECK:       %[[S:.*]] = arith.divf %[[G]], %[[D]]
// CHECK:       %[[Y:.*]] = arith.mulf %[[S]], %[[UP]]
// CHECK:       memref.store %[[Y]], %{{.*}}[%[[M]], %[[N]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "w" : tensor<32x16xf32>
  %b = tfm.weight "b" : tensor<32xf32>
  %n = tfm.linear %h, %w, %b {epilogue = #tfm.epilogue<swiglu>, tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 4, row_block = 2, channel_block = 1, tile_rows = 4>} : (tensor<?x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Narrow weights (tfm-weight-dtype): the kernel reads bf16 and widens each
// element to f32 in registers; the embedding table (f16) likewise; the
// sums and the stores stay f32.
// CHECK-LABEL: func.func @embedding_0
// CHECK-SAME: memref<10x16xf16>
// CHECK: %[[T:.*]] = memref.load %arg0
// CHECK: %[[TF:.*]] = arith.extf %[[T]] : f16 to f32
// CHECK: memref.store %[[TF]], %arg2
// CHECK-LABEL: func.func @linear_0
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<16x16xbf16>
// CHECK: scf.for {{.*}} -> (f32, f32) {
// CHECK:   %[[X:.*]] = memref.load %arg0
// CHECK:   %[[WV:.*]] = memref.load %[[W]]
// CHECK:   %[[WF:.*]] = arith.extf %[[WV]] : bf16 to f32
// CHECK:   arith.mulf %[[X]], %[[WF]] fastmath<reassoc,contract>

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf16>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf16>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "w" : tensor<16x16xbf16>
  %n = tfm.linear %h, %w {tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 4, row_block = 1, channel_block = 2, tile_rows = 0>} : (tensor<?x16xf32>, tensor<16x16xbf16>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// int8 rows: each i8 converted to f32 in the k loop; after it the row's
// sum times its scale, the 4 little-endian bytes after its 16 values.
// CHECK-LABEL: func.func @linear_0
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<16x20xi8>
// CHECK: scf.for {{.*}} -> (f32, f32) {
// CHECK:   %[[WV:.*]] = memref.load %[[W]]
// CHECK:   %[[WF:.*]] = arith.sitofp %[[WV]] : i8 to f32
// CHECK:   arith.mulf %{{.*}}, %[[WF]] fastmath<reassoc,contract>
// CHECK: %[[B0:.*]] = memref.load %[[W]][%{{.*}}, %c16]
// CHECK: arith.extui %[[B0]] : i8 to i32
// CHECK: %[[B3:.*]] = memref.load %[[W]][%{{.*}}, %c19]
// CHECK: %[[BITS:.*]] = arith.ori
// CHECK: %[[S:.*]] = arith.bitcast %[[BITS]] : i32 to f32
// CHECK: %[[Y:.*]] = arith.mulf %{{.*}}, %[[S]]
// CHECK: memref.store %[[Y]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "w" : tensor<16x20xi8>
  %n = tfm.linear %h, %w {tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 4, row_block = 1, channel_block = 2, tile_rows = 0>} : (tensor<?x16xf32>, tensor<16x20xi8>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// The tanh GELU epilogue, then the residual add, one row and one channel
// at a time.
// CHECK-LABEL: func.func @linear_0
// CHECK: scf.for %[[T0:.*]] = %c0 to %{{.*}} step %c8 {
// CHECK:   scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:     scf.for %[[M:.*]] = %[[T0]] to %{{.*}} step %c1 {
// CHECK:       %[[ACC:.*]] = scf.for {{.*}} -> (f32) {
// CHECK:       %[[T:.*]] = math.tanh
// CHECK:       %[[T1:.*]] = arith.addf %[[T]]
// CHECK:       %[[HX:.*]] = arith.mulf %[[ACC]], %{{.*}} : f32
// CHECK:       %[[G:.*]] = arith.mulf %[[HX]], %[[T1]] : f32
// CHECK:       %[[R:.*]] = memref.load %[[RES:.*]][%[[M]], %[[N]]]
// CHECK:       %[[Y:.*]] = arith.addf %[[G]], %[[R]]
// CHECK:       memref.store %[[Y]], %{{.*}}[%[[M]], %[[N]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %w = tfm.weight "w" : tensor<16x16xf32>
  %n = tfm.linear %h, %w residual(%h) {epilogue = #tfm.epilogue<gelu_tanh>, tfm.kernel_config = #tfm.cpu_kernel<parallel = output_channels, vector_width = 4, row_block = 1, channel_block = 1, tile_rows = 8>} : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Batched matmul: batch, m, this invocation's columns n, then a k
// reduction.
// CHECK-LABEL: func.func @matmul_0
// CHECK-SAME: %[[L:[a-z0-9]+]]: memref<2x?x8xf32>, %[[R:[a-z0-9]+]]: memref<2x8x4xf32>
// CHECK: scf.for %[[BI:.*]] = %c0 to %c2 step %c1 {
// CHECK:   scf.for %[[MI:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:     scf.for %[[NI:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:       %[[ACC:.*]] = scf.for %[[KI:.*]] = %c0 to %c8 step %c1 iter_args(%[[S:.*]] = %{{.*}}) -> (f32) {
// CHECK:         %[[RV:.*]] = memref.load %[[R]][%[[BI]], %[[KI]], %[[NI]]]
// CHECK:         %[[LV:.*]] = memref.load %[[L]][%[[BI]], %[[MI]], %[[KI]]]
// CHECK:         %[[P:.*]] = arith.mulf %[[LV]], %[[RV]] fastmath<reassoc,contract>
// CHECK:         arith.addf %[[S]], %[[P]] fastmath<reassoc,contract>
// CHECK:       memref.store %[[ACC]], %{{.*}}[%[[BI]], %[[MI]], %[[NI]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %hr = tfm.reshape %h : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %t = tfm.transpose %hr {permutation = array<i64: 1, 0, 2>} : tensor<?x2x8xf32> -> tensor<2x?x8xf32>
  %w2 = tfm.weight "w2" : tensor<2x8x4xf32>
  %m = tfm.matmul %t, %w2 : (tensor<2x?x8xf32>, tensor<2x8x4xf32>) -> tensor<2x?x4xf32>
  %mt = tfm.transpose %m {permutation = array<i64: 1, 0, 2>} : tensor<2x?x4xf32> -> tensor<?x2x4xf32>
  %r = tfm.reshape %mt : tensor<?x2x4xf32> -> tensor<?x8xf32>
  %n = tfm.concat %r, %r {axis = 1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
