// OpenBLAS kernel choice for the `ripple` process (internal to the command line).
//
// Debian 12's OpenBLAS (0.3.21) does not recognise recent Intel server processors (Sapphire
// and Emerald Rapids) and falls back to its Prescott (SSE3) kernels: sgemm then runs at a
// fifth of the speed its AVX2 kernels reach on the same core (measured in
// docs/performance.md), and dense products are most of a graph-classification epoch.
// OpenBLAS picks its kernels when it is loaded, before main(), from the environment
// variable OPENBLAS_CORETYPE. So when OpenBLAS reports the Prescott fallback, the variable
// is unset and the processor has AVX2 and FMA, the process re-executes itself once with
// OPENBLAS_CORETYPE=Haswell (AVX2 kernels: the long-established ones; the AVX-512 kernels
// of this release have had correctness bugs on these processors). A user who sets the
// variable keeps their choice; RIPPLE_KEEP_BLAS_KERNELS=1 disables the switch. Only `train`,
// `eval` and `bench` switch (loading LibTorch twice costs about half a second); any failure
// leaves the process as it was.
#pragma once

namespace ripple::cli {

// Re-executes the process as described above, or returns (nothing to do, or exec failed).
void prefer_avx2_blas_kernels(int argc, char** argv);

}  // namespace ripple::cli
