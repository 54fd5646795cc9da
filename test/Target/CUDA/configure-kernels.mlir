// RUN: llmc-opt %s -llmc-cuda-configure-kernels | FileCheck %s
// RUN: llmc-opt %s -llmc-cuda-configure-kernels=threads=256 | FileCheck %s --check-prefix=T256

// Every kernel op gets the dimension the grid covers, thread per item,
// 128 threads per block by default (printed without the defaults); views
// get nothing; a configuration written by hand is kept.
// CHECK-LABEL: func.func @kernels
// CHECK: tfm.rms_norm {{.*}}tfm.kernel_config = #tfm.cuda_kernel<parallel = rows, threads = 128>
// CHECK-NEXT: tfm.linear {{.*}}#tfm.cuda_kernel<parallel = output_channels, threads = 128>
// CHECK-NEXT: tfm.silu {{.*}}#tfm.cuda_kernel<parallel = elements, threads = 128>
// CHECK-NEXT: tfm.reshape
// CHECK-NOT: kernel_config
// CHECK-SAME: -> tensor<?x4x12xf32>
// CHECK-NEXT: tfm.silu {{.*}}#tfm.cuda_kernel<parallel = elements, threads = 64>
// T256: tfm.rms_norm {{.*}}#tfm.cuda_kernel<parallel = rows, threads = 256>
func.func @kernels(%x: tensor<?x64xf32>) -> (tensor<?x4x12xf32>, tensor<?x48xf32>) {
  %n = tfm.weight "n" : tensor<64xf32>
  %w = tfm.weight "w" : tensor<48x64xf32>
  %a = tfm.rms_norm %x, %n {eps = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %b = tfm.linear %a, %w : (tensor<?x64xf32>, tensor<48x64xf32>) -> tensor<?x48xf32>
  %c = tfm.silu %b : tensor<?x48xf32>
  %d = tfm.reshape %c : tensor<?x48xf32> -> tensor<?x4x12xf32>
  %e = tfm.silu %c {tfm.kernel_config = #tfm.cuda_kernel<parallel = elements, threads = 64>} : tensor<?x48xf32>
  return %d, %e : tensor<?x4x12xf32>, tensor<?x48xf32>
}
