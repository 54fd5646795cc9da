// RUN: llmc-opt %s -tfm-quantize-weights=scheme=int4 -verify-diagnostics

// expected-error @+1 {{tfm-quantize-weights: scheme 'int4' is not one of none, int8}}
module {
  func.func @f() {
    return
  }
}
