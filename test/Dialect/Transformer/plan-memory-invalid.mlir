// RUN: llmc-opt %s -split-input-file -tfm-plan-memory -verify-diagnostics

// expected-error @+1 {{no func.func @step to plan}}
module {
  func.func @other() {
    return
  }
}

// -----

func.func @step(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'tfm.silu' op result 'tensor<?x?xf32>' has more than one dynamic dimension; the arena is sized by the token count alone}}
  %0 = tfm.silu %x : tensor<?x?xf32>
  %1 = tfm.silu %0 : tensor<?x?xf32>
  return %1 : tensor<?x?xf32>
}
