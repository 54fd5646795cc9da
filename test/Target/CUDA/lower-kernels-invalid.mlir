// RUN: llmc-opt %s -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cuda-lower-kernels -verify-diagnostics

// A kernel the CPU configured is not one the GPU can lower.
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  // expected-error@+1 {{'func.func' op has no #tfm.cuda_kernel configuration (run llmc-cuda-configure-kernels first)}}
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %g = tfm.gather_last_tokens %h, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %g, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
