// RUN: llmc-opt %s -llmc-cuda-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cuda-lower-kernels | FileCheck %s

// Each thread computes work item blockIdx.x * blockDim.x + threadIdx.x of
// its launch (nothing past the extent), and every launch carries the
// configuration's block size.
// CHECK-LABEL: func.func @embedding_0
// CHECK-SAME: attributes {plan.kernel}
// CHECK: %[[DIM:.*]] = memref.dim
// CHECK: %[[N:.*]] = arith.muli %{{.*}}, %[[DIM]]
// CHECK: %[[B:.*]] = gpu.block_id x
// CHECK: %[[D:.*]] = gpu.block_dim x
// CHECK: %[[T:.*]] = gpu.thread_id x
// CHECK: %[[BD:.*]] = arith.muli %[[B]], %[[D]]
// CHECK: %[[I:.*]] = arith.addi %[[BD]], %[[T]]
// CHECK: %[[BEGIN:.*]] = arith.minui %[[I]], %[[N]]
// CHECK: %[[I1:.*]] = arith.addi %[[I]], %{{.*}}
// CHECK: %[[END:.*]] = arith.minui %[[I1]], %[[N]]
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %[[END]]
// CHECK-NOT: gpu.block_id
// CHECK-LABEL: func.func @rms_norm_0
// CHECK: gpu.thread_id x
// CHECK: plan.program
// CHECK: plan.launch @embedding_0({{.*}}) over tokens threads 128
// CHECK: plan.launch @rms_norm_0({{.*}}) over tokens threads 128
// CHECK: plan.launch @gather_last_tokens_0({{.*}}) over 8 threads 128
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %n = tfm.weight "norm" : tensor<8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %r = tfm.rms_norm %h, %n {eps = 1.0e-05 : f64} : tensor<?x8xf32>, tensor<8xf32>
  %g = tfm.gather_last_tokens %r, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
