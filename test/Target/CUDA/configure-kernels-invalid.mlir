// RUN: llmc-opt %s -llmc-cuda-configure-kernels=threads=100 -verify-diagnostics

// expected-error@+1 {{llmc-cuda-configure-kernels: threads (100) must be a multiple of 32 in [32, 1024]}}
module {
}
