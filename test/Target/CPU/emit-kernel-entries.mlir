// RUN: llmc-opt %s -llmc-cpu-emit-kernel-entries -canonicalize | FileCheck %s

// Every kernel gets the runtime's entry: base pointers from `args`, the
// dynamic sizes from `sizes` buffer after buffer ([?, ?] then [4, ?, 8]:
// three sizes), dense row-major strides, and the work range; the kernel
// becomes internal so that LLVM inlines it into its entry.
// CHECK-LABEL: func.func private @k(%arg0: memref<?x?xi32>, %arg1: memref<4x?x8xf32>, %arg2: index, %arg3: index) attributes {llvm.linkage = #llvm.linkage<internal>, plan.kernel}
// CHECK-LABEL: func.func @llmc_kernel_k(
// CHECK-SAME: %[[ARGS:.*]]: !llvm.ptr, %[[SIZES:.*]]: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: %[[P0:.*]] = llvm.load %[[ARGS]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[S0:.*]] = llvm.load %[[SIZES]] : !llvm.ptr -> i64
// CHECK: %[[S1P:.*]] = llvm.getelementptr %[[SIZES]][1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[S1:.*]] = llvm.load %[[S1P]] : !llvm.ptr -> i64
// CHECK: llvm.insertvalue %[[S1]], %{{.*}}[3, 1]
// CHECK: %[[ROW:.*]] = llvm.mul %[[S1]], %{{.*}} : i64
// CHECK: llvm.insertvalue %[[S0]], %{{.*}}[3, 0]
// CHECK: llvm.insertvalue %[[ROW]], %{{.*}}[4, 0]
// CHECK: %[[A0:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<?x?xi32>
// CHECK: %[[P1P:.*]] = llvm.getelementptr %[[ARGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[S2P:.*]] = llvm.getelementptr %[[SIZES]][2] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[S2:.*]] = llvm.load %[[S2P]] : !llvm.ptr -> i64
// CHECK: llvm.insertvalue %[[S2]], %{{.*}}[3, 1]
// CHECK: %[[STRIDE0:.*]] = llvm.mul %{{.*}}, %[[S2]] : i64
// CHECK: llvm.insertvalue %[[STRIDE0]], %{{.*}}[4, 0]
// CHECK: %[[A1:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<4x?x8xf32>
// CHECK: %[[BI:.*]] = arith.index_cast %[[B]] : i64 to index
// CHECK: %[[EI:.*]] = arith.index_cast %[[E]] : i64 to index
// CHECK: call @k(%[[A0]], %[[A1]], %[[BI]], %[[EI]])
func.func @k(%a: memref<?x?xi32>, %b: memref<4x?x8xf32>, %begin: index, %end: index) attributes {plan.kernel} {
  return
}
