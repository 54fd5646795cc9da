// RUN: llmc-opt %s -llmc-cpu-approximate-math | FileCheck %s

// exp, tanh and erf become arith (no libm call, so their loops vectorize);
// sin, cos and powf stay: RoPE angles span many periods.
// CHECK-LABEL: func.func @activations
// CHECK-NOT: math.exp
// CHECK-NOT: math.tanh
// CHECK-NOT: math.erf
// CHECK: return
func.func @activations(%x: f32) -> (f32, f32, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %r = math.erf %x : f32
  return %e, %t, %r : f32, f32, f32
}

// CHECK-LABEL: func.func @rope
// CHECK: math.sin
// CHECK: math.cos
// CHECK: math.powf
func.func @rope(%x: f32, %y: f32) -> (f32, f32, f32) {
  %s = math.sin %x : f32
  %c = math.cos %x : f32
  %p = math.powf %x, %y : f32
  return %s, %c, %p : f32, f32, f32
}

// The exp approximation: range reduction by ln 2 (x * log2(e)), a
// polynomial, and 2^k built in the exponent bits.
// CHECK-LABEL: func.func @exp_shape
// CHECK-DAG: arith.constant 1.44269502 : f32
// CHECK: math.fma
// CHECK: arith.shli
// CHECK: arith.bitcast
func.func @exp_shape(%x: f32) -> f32 {
  %e = math.exp %x : f32
  return %e : f32
}

// bf16 conversions become integer shifts (truncation rounds to nearest
// even): no __truncsfbf2 call, which Debian 12's libgcc lacks.
// CHECK-LABEL: func.func @bf16
// CHECK-NOT: arith.truncf
// CHECK-NOT: arith.extf
// CHECK: arith.shrui
// CHECK: return
func.func @bf16(%x: f32) -> f32 {
  %t = arith.truncf %x : f32 to bf16
  %e = arith.extf %t : bf16 to f32
  return %e : f32
}
