// RUN: llmc-opt %s -tfm-kv-dtype=dtype=i8 -verify-diagnostics

// expected-error @+1 {{tfm-kv-dtype: dtype 'i8' is not one of f32, f16, bf16}}
module {
  func.func @f() {
    return
  }
}
