// RUN: llmc-opt %s -split-input-file -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels -canonicalize -cse | FileCheck %s
// The pointwise family: add, mul, SiLU, GELU (exact and tanh).

// Elementwise ops run over the flattened elements: this invocation's range
// of the rows * columns items, one load per operand, one store. `add %h,
// %h` reads one buffer.
// CHECK-LABEL: func.func @add_0(%arg0: memref<?x16xf32>, %arg1: memref<?x16xf32>, %arg2: index, %arg3: index)
// CHECK: %[[ROWS:.*]] = memref.dim %arg1, %c0
// CHECK: %[[ITEMS:.*]] = arith.muli %[[ROWS]], %c16
// CHECK: %[[B:.*]] = arith.minui %arg2, %[[ITEMS]]
// CHECK: %[[E:.*]] = arith.minui %arg3, %[[ITEMS]]
// CHECK: %[[OUT:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [%{{.*}}], strides: [1] : memref<?x16xf32> to memref<?xf32>
// CHECK: %[[IN:.*]] = memref.reinterpret_cast %arg0 to offset: [0], sizes: [%{{.*}}], strides: [1] : memref<?x16xf32> to memref<?xf32>
// CHECK: scf.for %[[I:.*]] = %[[B]] to %[[E]] step %c1 {
// CHECK:   %[[X:.*]] = memref.load %[[IN]][%[[I]]]
// CHECK:   %[[Y:.*]] = arith.addf %[[X]], %[[X]]
// CHECK:   memref.store %[[Y]], %[[OUT]][%[[I]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.add %h, %h : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// CHECK-LABEL: func.func @mul_0
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[X:.*]] = memref.load %[[A:.*]][%[[I]]]
// CHECK:   %[[Y:.*]] = memref.load %[[B:.*]][%[[I]]]
// CHECK:   %[[P:.*]] = arith.mulf %[[X]], %[[Y]]
// CHECK:   memref.store %[[P]], %{{.*}}[%[[I]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %a = tfm.silu %h : tensor<?x16xf32>
  %n = tfm.mul %a, %h : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// SiLU: x / (1 + exp(-x)).
// CHECK-LABEL: func.func @silu_0
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[X:.*]] = memref.load %{{.*}}[%[[I]]]
// CHECK:   %[[NX:.*]] = arith.negf %[[X]]
// CHECK:   %[[E:.*]] = math.exp %[[NX]]
// CHECK:   %[[D:.*]] = arith.addf %[[E]], %[[ONE]]
// CHECK:   %[[Y:.*]] = arith.divf %[[X]], %[[D]]
// CHECK:   memref.store %[[Y]], %{{.*}}[%[[I]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.silu %h : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// Exact GELU: 0.5 x (1 + erf(x / sqrt(2))).
// CHECK-LABEL: func.func @gelu_0
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[X:.*]] = memref.load %{{.*}}[%[[I]]]
// CHECK:   %[[S:.*]] = arith.mulf %[[X]], %[[RSQRT2]]
// CHECK:   %[[E:.*]] = math.erf %[[S]]
// CHECK:   %[[P:.*]] = arith.addf %[[E]], %[[ONE]]
// CHECK:   %[[H:.*]] = arith.mulf %[[X]], %[[HALF]]
// CHECK:   %[[Y:.*]] = arith.mulf %[[H]], %[[P]]
// CHECK:   memref.store %[[Y]], %{{.*}}[%[[I]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.gelu %h : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}

// -----

// GPT-2's tanh GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @gelu_0
// CHECK-DAG: %[[K:.*]] = arith.constant 0.797884583 : f32
// CHECK-DAG: %[[C:.*]] = arith.constant 4.471500e-02 : f32
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c1 {
// CHECK:   %[[X:.*]] = memref.load %{{.*}}[%[[I]]]
// CHECK:   %[[X2:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK:   %[[X3:.*]] = arith.mulf %[[X]], %[[X2]]
// CHECK:   %[[CX3:.*]] = arith.mulf %[[X3]], %[[C]]
// CHECK:   %[[IN:.*]] = arith.addf %[[X]], %[[CX3]]
// CHECK:   %[[KIN:.*]] = arith.mulf %[[IN]], %[[K]]
// CHECK:   %[[T:.*]] = math.tanh %[[KIN]]
// CHECK:   arith.addf %[[T]]
// CHECK:   arith.mulf %[[X]]
// CHECK:   memref.store %{{.*}}, %{{.*}}[%[[I]]]

func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x16xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  %n = tfm.gelu %h {approximation = #tfm.gelu_approximation<tanh>} : tensor<?x16xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x16xf32>, tensor<?xi32>) -> tensor<?x16xf32>
  return %logits, %kc, %vc : tensor<?x16xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
