// RUN: llmc-opt %s -tfm-plan-memory=max-tokens=4 -convert-tfm-to-loops=max-tokens=4 -canonicalize | FileCheck %s
// RUN: llmc-opt %s -tfm-plan-memory=max-tokens=4 -convert-tfm-to-loops=max-tokens=8 -verify-diagnostics

// With a plan, intermediates are views at the planned offsets and the arena
// is the planned size (2 x 1024 bytes, not 3 x 1024).
// CHECK: llmc.abi = {arena_bytes = 2048 : i64
// CHECK-LABEL: func.func @llmc_step
// CHECK: memref.view %arg8[%c0][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: memref.view %arg8[%c1024][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK: memref.view %arg8[%c0][%{{.*}}] : memref<?xi8> to memref<?x64xf32>
// CHECK-NOT: memref.view %arg8

// expected-error @+1 {{'func.func' op the arena was planned for 4 tokens but max-tokens is 8}}
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) {
  %e = tfm.weight "e" : tensor<10x64xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x64xf32>, tensor<?xi32>) -> tensor<?x64xf32>
  %a = tfm.silu %h : tensor<?x64xf32>
  %b = tfm.silu %a : tensor<?x64xf32>
  %w = tfm.weight "w" : tensor<10x64xf32>
  %l = tfm.linear %b, %w : (tensor<?x64xf32>, tensor<10x64xf32>) -> tensor<?x10xf32>
  return %l, %kc, %vc : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
