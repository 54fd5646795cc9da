// RUN: llmc-opt %s -llmc-cuda-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cuda-lower-kernels -llmc-cuda-outline-kernels | FileCheck %s

// The kernels become launchable entries in gpu.module @llmc_kernels: one
// device pointer per buffer, then the dynamic sizes buffer after buffer
// (embedding: the table [10, 8] is static; the ids [tokens] and the output
// [tokens, 8] give two sizes); the plan launches the entries.
// CHECK: module attributes {gpu.container_module
// CHECK: plan.launch @llmc_kernels::@llmc_kernel_embedding_0({{.*}}) over tokens threads 128
// CHECK: plan.launch @llmc_kernels::@llmc_kernel_gather_last_tokens_0(
// CHECK-NOT: func.func @embedding_0
// CHECK: gpu.module @llmc_kernels
// CHECK: gpu.func @llmc_kernel_embedding_0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %[[S0:.*]]: i64, %[[S1:.*]]: i64) kernel
// CHECK: llvm.insertvalue %[[S0]]
// CHECK: builtin.unrealized_conversion_cast {{.*}} to memref<?xi32>
// CHECK: gpu.thread_id x
// CHECK: gpu.return
// CHECK: gpu.func @llmc_kernel_gather_last_tokens_0(
// CHECK-SAME: kernel
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
