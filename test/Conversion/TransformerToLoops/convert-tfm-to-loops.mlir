// RUN: llmc-opt %s -split-input-file -convert-tfm-to-loops=max-tokens=8 -canonicalize -cse | FileCheck %s

// The fixed C ABI; weights at packed offsets; caches as views of the pool
// (block count = pool bytes / 256, V after K); intermediates in the scratch
// arena at static offsets; logits written straight into the output.
// CHECK: module attributes {llmc.abi = {arena_bytes = 768 : i64, kv_bytes_per_block = 256 : i64, max_tokens = 8 : i64, vocab_size = 10 : i64, weights_bytes = 640 : i64}
// CHECK-SAME: llmc.weights = [{dtype = "f32", name = "embed", offset = 0 : i64, shape = [10, 8], sources = ["embed"], transform = "none"}, {dtype = "f32", name = "head", offset = 320 : i64
// CHECK: func.func private @llmc_barrier()
// CHECK-LABEL: func.func @llmc_step(
// CHECK-SAME: %[[IDS:[a-z0-9]+]]: memref<?xi32>, %[[POS:[a-z0-9]+]]: memref<?xi32>, %[[SEQ:[a-z0-9]+]]: memref<?xi32>, %[[SLOTS:[a-z0-9]+]]: memref<?xi32>, %[[BT:[a-z0-9]+]]: memref<?x?xi32>, %[[LI:[a-z0-9]+]]: memref<?xi32>, %[[W:[a-z0-9]+]]: memref<?xi8>, %[[KV:[a-z0-9]+]]: memref<?xi8>, %[[SCRATCH:[a-z0-9]+]]: memref<?xi8>, %[[OUT:[a-z0-9]+]]: memref<?x10xf32>, %[[TID:[a-z0-9]+]]: index, %[[NT:[a-z0-9]+]]: index) attributes {llvm.emit_c_interface}
// CHECK: %[[POOL:.*]] = memref.dim %[[KV]]
// CHECK: %[[NB:.*]] = arith.divui %[[POOL]], %c256
// CHECK: %[[KC:.*]] = memref.view %[[KV]][%c0][%[[NB]]] : memref<?xi8> to memref<?x4x1x8xf32>
// CHECK: %[[VOFF:.*]] = arith.muli %[[NB]], %c128
// CHECK: %[[VC:.*]] = memref.view %[[KV]][%[[VOFF]]][%[[NB]]] : memref<?xi8> to memref<?x4x1x8xf32>
// CHECK: %[[EMB:.*]] = memref.view %[[W]][%c0][] : memref<?xi8> to memref<10x8xf32>
// CHECK: %[[T:.*]] = memref.dim %[[IDS]], %c0
// CHECK: %[[H:.*]] = memref.view %[[SCRATCH]][%c0][%[[T]]] : memref<?xi8> to memref<?x8xf32>
// CHECK: scf.for
// CHECK: memref.load %[[EMB]]
// CHECK: memref.store {{.*}}, %[[H]]
// Every kernel ends at the runtime's barrier.
// CHECK: call @llmc_barrier() : () -> ()
// The reshape is a view, not a copy.
// CHECK: %[[K:.*]] = memref.reinterpret_cast %[[H]] to offset: [0], sizes: [{{.*}}, 1, 8], strides: [8, 8, 1]
// KV writes skip negative slots and store in place.
// CHECK: memref.load %[[SLOTS]]
// CHECK: arith.cmpi sge
// CHECK: scf.if
// CHECK: memref.store {{.*}}, %[[KC]]
// CHECK: memref.store {{.*}}, %[[VC]]
// Attention: keys from max(0, pos + 1 - window) to pos, through the table.
// CHECK: %[[ATT:.*]] = memref.view %[[SCRATCH]][%c256]
// CHECK: memref.load %[[SEQ]]
// CHECK: memref.load %[[POS]]
// CHECK: arith.cmpi ugt, %{{.*}}, %c2
// CHECK: arith.select
// CHECK: memref.load %[[BT]]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: %[[LAST:.*]] = memref.view %[[SCRATCH]][%c512]
// CHECK: memref.load %[[LI]]
// CHECK: %[[HEAD:.*]] = memref.view %[[W]][%c320][] : memref<?xi8> to memref<10x8xf32>
// The LM head splits its 10 output channels across the threads, then
// (no tfm-choose-schedules: the 16-register default) goes through token
// tiles of 4096 rows (128 KiB of 8-wide inputs), computing blocks of 2
// channels x 4 token rows per pass over k, the remainders one by one.
// CHECK: %[[B0:.*]] = arith.muli %[[TID]], %c10
// CHECK: %[[BEGIN:.*]] = arith.divui %[[B0]], %[[NT]]
// CHECK: %[[E1:.*]] = arith.muli %{{.*}}, %c10
// CHECK: %[[END:.*]] = arith.divui %[[E1]], %[[NT]]
// CHECK: scf.for %[[T0:.*]] = %c0 to %{{.*}} step %c4096
// CHECK: %[[SPAN:.*]] = arith.subi %[[END]], %[[BEGIN]]
// CHECK: %[[NB:.*]] = arith.divui %[[SPAN]], %c2
// CHECK: %[[NB2:.*]] = arith.muli %[[NB]], %c2
// CHECK: %[[CFULL:.*]] = arith.addi %[[BEGIN]], %[[NB2]]
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %[[CFULL]] step %c2
// CHECK: scf.for %{{.*}} = %[[T0]] to %{{.*}} step %c4
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: memref.store {{.*}}, %[[OUT]]
// CHECK: scf.for %{{.*}} = %[[CFULL]] to %[[END]] step %c1
// CHECK: call @llmc_barrier()
// CHECK-NOT: func.func @step
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %ids : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %k = tfm.reshape %h : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %kc1 = tfm.kv_cache_write %kc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %vc1 = tfm.kv_cache_write %vc, %k, %slots : tensor<?x4x1x8xf32>, tensor<?x1x8xf32>, tensor<?xi32>
  %a = tfm.attention %k, %kc1, %vc1, %bt, %seq, %pos {scale = 0.5 : f64, sliding_window = 2 : i64} : (tensor<?x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>, tensor<?x?xi32>, tensor<?xi32>, tensor<?xi32>) -> tensor<?x1x8xf32>
  %f = tfm.reshape %a : tensor<?x1x8xf32> -> tensor<?x8xf32>
  %last = tfm.gather_last_tokens %f, %li : (tensor<?x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  %w = tfm.weight "head" : tensor<10x8xf32>
  %l = tfm.linear %last, %w : (tensor<?x8xf32>, tensor<10x8xf32>) -> tensor<?x10xf32>
  return %l, %kc1, %vc1 : tensor<?x10xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
