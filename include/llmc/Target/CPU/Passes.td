//===- Passes.td - CPU target passes -----------------------*- tablegen -*-===//
#ifndef LLMC_TARGET_CPU_PASSES_TD
#define LLMC_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPUConfigureKernels : Pass<"llmc-cpu-configure-kernels", "mlir::ModuleOp"> {
  let summary = "Choose how the CPU runs every kernel op";
  let description = [{
    Sets `tfm.kernel_config = #tfm.cpu_kernel<...>` on every kernel op: the
    parallel dimension the runtime's threads split, the vector width of
    `cpu` (f32 lanes: 16 with AVX-512, 8 with AVX, else 4) and, for
    `tfm.linear`, the register blocking and cache tiling. An op that has a
    configuration already (written by hand) keeps it.

    Register blocking: the kernel computes r token rows times q output
    channels per pass over k, every weight vector loaded once for r rows
    and every input vector once for q channels. With c weight rows per
    output channel (2 for swiglu, else 1), one pass holds r*q*c
    accumulators, q*c weight vectors and one input vector in vector
    registers (32 with AVX-512, else 16) and does r*q*c FMAs for q*c + r
    loads. Among r in {1, 2, 4, 8} and q in {1, 2, 4} that fit, pick the
    highest FMAs per load, then the larger r (prefill and batches have many
    rows). A bf16/f16 weight vector counts as 3 loads (load, widen, shift
    or convert), so narrow weights get more rows per weight vector.

    Cache tiling: token rows go through in tiles of `tile_rows` whose inputs
    (`tile_rows * k` f32) fit 128 KiB, half of a 256 KiB per-core cache
    share, so a tile's inputs stay cached while the weights stream past once
    per tile; `tile_rows` is a multiple of r.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"x86-64-v2\"",
           "the LLVM CPU name (native: the compiling host)">
  ];
}

def CPUApproximateMath
    : Pass<"llmc-cpu-approximate-math", "mlir::ModuleOp"> {
  let summary = "Inline polynomial exp, tanh and erf so their loops "
                "vectorize";
  let description = [{
    Rewrites f32 `math.exp`, `math.tanh` and `math.erf` (softmax, SiLU,
    GELU in both forms) into MLIR's polynomial approximations (range
    reduction and a minimax polynomial in arith ops, as every fast engine
    does) instead of calls to libm's scalar `expf`, `tanhf`, `erff`, which
    keep the loops around them scalar. Sine, cosine and powers (RoPE
    tables) stay libm calls: their arguments span many periods. The
    approximations are within a few ulp of libm over the whole range
    (e2e parity holds at 1e-4 relative).

    Also expands bf16 `arith.extf` / `arith.truncf` into integer shifts
    (truncation rounds to nearest even, NaN stays NaN): LLVM would call
    `__truncsfbf2`, which Debian 12's libgcc does not have.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::vector::VectorDialect"
  ];
}

def CPULowerKernels : Pass<"llmc-cpu-lower-kernels", "mlir::ModuleOp"> {
  let summary = "Lower every kernel function to loops for the CPU";
  let description = [{
    Applies every op family's lowering patterns
    (lib/Conversion/TransformerToLoops) with the CPU's TargetInfo: each
    kernel gets two trailing `index` arguments, the range [begin, end) of
    its work items that one runtime thread computes (clamped to the
    kernel's extent). Threads synchronize between launches in the runtime,
    not in the kernels.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"x86-64-v2\"",
           "the LLVM CPU name (native: the compiling host)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect"
  ];
}

def CPUEmitKernelEntries
    : Pass<"llmc-cpu-emit-kernel-entries", "mlir::ModuleOp"> {
  let summary = "Give every lowered kernel the runtime's calling convention";
  let description = [{
    For every kernel `K` (lowered by llmc-cpu-lower-kernels) adds the
    exported function

        void llmc_kernel_K(void *const *args, const int64_t *sizes,
                           int64_t begin, int64_t end);

    `args` holds one base pointer per buffer argument; `sizes` the sizes of
    the buffers' dynamic dimensions, buffer after buffer. The entry builds
    each argument's memref descriptor (dense, row-major) and calls `K`,
    which becomes internal so that LLVM inlines it. Every kernel then has
    one signature the runtime can call without knowing its arguments.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect"];
}

#endif // LLMC_TARGET_CPU_PASSES_TD
