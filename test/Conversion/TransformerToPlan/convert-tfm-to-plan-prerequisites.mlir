// convert-tfm-to-plan needs the arena plan and every kernel's configuration.
// RUN: not llmc-opt %s -llmc-cpu-configure-kernels -convert-tfm-to-plan 2>&1 | FileCheck %s --check-prefix=NOPLAN
// RUN: not llmc-opt %s -tfm-plan-memory=max-tokens=8 -convert-tfm-to-plan 2>&1 | FileCheck %s --check-prefix=NOCONFIG

// NOPLAN: error: the step has no arena plan (run tfm-plan-memory first)
// NOCONFIG: error: 'tfm.embedding' op has no kernel configuration (run a target's kernel configuration first, e.g. llmc-cpu-configure-kernels)
func.func @step(%ids: tensor<?xi32>, %pos: tensor<?xi32>, %seq: tensor<?xi32>, %slots: tensor<?xi32>, %bt: tensor<?x?xi32>, %li: tensor<?xi32>, %kc: tensor<?x4x1x8xf32>, %vc: tensor<?x4x1x8xf32>) -> (tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>) attributes {tfm.step} {
  %e = tfm.weight "embed" : tensor<10x8xf32>
  %h = tfm.embedding %e, %li : (tensor<10x8xf32>, tensor<?xi32>) -> tensor<?x8xf32>
  return %h, %kc, %vc : tensor<?x8xf32>, tensor<?x4x1x8xf32>, tensor<?x4x1x8xf32>
}
