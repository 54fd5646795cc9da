// RUN: llmc-opt %s -tfm-weight-dtype=dtype=int3 -verify-diagnostics

// expected-error @+1 {{tfm-weight-dtype: dtype 'int3' is not one of f32, bf16, f16, auto}}
module {
  func.func @f() {
    return
  }
}
