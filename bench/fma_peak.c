// The floating-point peak of this machine's cores, as a yardstick for the dense products:
// every thread runs 12 independent chains of fused multiply-adds (enough to cover the FMA
// latency on current x86 cores), with 256-bit and then 512-bit vectors, three times.
// Not part of the build; x86 with AVX-512F only:
//   gcc -O3 -march=native -fopenmp bench/fma_peak.c -o /tmp/fma_peak && OMP_NUM_THREADS=2 /tmp/fma_peak
// Build with -O3: at -O2 GCC kept the accumulators in memory and measured far less.
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>

enum { kChains = 12 };
static const long kIterations = 200000000;

static double gflops_256(void) {
  double seconds = omp_get_wtime();
  float sink = 0;
#pragma omp parallel reduction(+ : sink)
  {
    __m256 acc[kChains];
    const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < kIterations; ++k)
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
    for (int i = 0; i < kChains; ++i) sink += acc[i][0];
  }
  seconds = omp_get_wtime() - seconds;
  if (sink == 42) puts("");  // keeps the loop's result alive
  return kIterations * (double)kChains * 16 * omp_get_max_threads() / seconds / 1e9;  // 8 lanes x 2 flops
}

static double gflops_512(void) {
  double seconds = omp_get_wtime();
  float sink = 0;
#pragma omp parallel reduction(+ : sink)
  {
    __m512 acc[kChains];
    const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < kIterations; ++k)
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
    for (int i = 0; i < kChains; ++i) sink += acc[i][0];
  }
  seconds = omp_get_wtime() - seconds;
  if (sink == 42) puts("");
  return kIterations * (double)kChains * 32 * omp_get_max_threads() / seconds / 1e9;  // 16 lanes x 2 flops
}

int main(void) {
  for (int run = 0; run < 3; ++run) {
    const double narrow = gflops_256(), wide = gflops_512();
    printf("256-bit %.1f GFLOP/s  512-bit %.1f GFLOP/s (%d threads)\n", narrow, wide, omp_get_max_threads());
  }
  return 0;
}
