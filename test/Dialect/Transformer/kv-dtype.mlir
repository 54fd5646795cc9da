// RUN: llmc-opt %s -tfm-kv-dtype=dtype=f16 | FileCheck %s
// RUN: llmc-opt %s -tfm-kv-dtype=dtype=bf16 -llmc-cpu-configure-kernels -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan -llmc-cpu-lower-kernels | FileCheck %s --check-prefix=LOOPS
// RUN: llmc-opt %s -tfm-kv-dtype | FileCheck %s --check-prefix=F32

// The caches change type from the arguments through the writes to the
// returned values; queries and attention's result stay f32.
// CHECK-LABEL: func.func @step
// CHECK-SAME: %[[KC:[a-z0-9]+]]: tensor<?x4x2x8xf16>, %[[VC:[a-z0-9]+]]: tensor<?x4x2x8xf16>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf16>, tensor<?x4x2x8xf16>)
// CHECK: %[[K1:.*]] = tfm.kv_cache_write %[[KC]], %{{.*}}, %{{.*}} : tensor<?x4x2x8xf16>, tensor<?x2x8xf32>, tensor<?xi32>
// CHECK: %[[V1:.*]] = tfm.kv_cache_write %[[VC]], %{{.*}}, %{{.*}} : tensor<?x4x2x8xf16>, tensor<?x2x8xf32>, tensor<?xi32>
// CHECK: tfm.attention %{{.*}}, %[[K1]], %[[V1]], {{.*}} : (tensor<?x4x8xf32>, tensor<?x4x2x8xf16>, tensor<?x4x2x8xf16>, {{.*}}) -> tensor<?x4x8xf32>
// CHECK: return %{{.*}}, %[[K1]], %[[V1]] : tensor<?x32xf32>, tensor<?x4x2x8xf16>, tensor<?x4x2x8xf16>
// F32: tensor<?x4x2x8xf32>, %{{.*}}: tensor<?x4x2x8xf32>)

// Kernels round as they write (bf16: integer round to nearest even later,
// in llmc-cpu-approximate-math) and widen as attention reads.
// LOOPS-LABEL: func.func @kv_cache_write_0
// LOOPS-SAME: memref<?x4x2x8xbf16>
// LOOPS: %[[V:.*]] = memref.load %{{.*}} : memref<?x2x8xf32>
// LOOPS: %[[T:.*]] = arith.truncf %[[V]] : f32 to bf16
// LOOPS: memref.store %[[T]]
// LOOPS-LABEL: func.func @attention_0
// LOOPS: %[[K:.*]] = memref.load %{{.*}} : memref<?x4x2x8xbf16>
// LOOPS: arith.extf %[[K]] : bf16 to f32
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x2x8xf32>, %vc: tensor<?x4x2x8xf32>) -> (tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x32xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  %q = tfm.reshape %h : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kv = tfm.slice %h {axis = 1 : i64, start = 0 : i64, size = 16 : i64} : tensor<?x32xf32> -> tensor<?x16xf32>
  %k = tfm.reshape %kv : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %k, %slots : tensor<?x4x2x8xf32>, tensor<?x2x8xf32>, tensor<?xi32>
  %a = tfm.attention %q, %kc1, %vc1, %bt, %seq, %pos {scale = 0.35 : f64} : (tensor<?x4x8xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x4x8xf32>
  %n = tfm.reshape %a : tensor<?x4x8xf32> -> tensor<?x32xf32>
  %logits = tfm.gather_last_tokens %n, %li : (tensor<?x32xf32>, tensor<?xi32>) -> tensor<?x32xf32>
  return %logits, %kc1, %vc1 : tensor<?x32xf32>, tensor<?x4x2x8xf32>, tensor<?x4x2x8xf32>
}
