"""GEMM throughput of the BLAS behind a PyTorch build, for the shapes of Ripple's dense layers.

  OPENBLAS_CORETYPE=Haswell /usr/bin/python3 bench/blas_gemm.py 1   # Debian's torch (OpenBLAS)
  VENV/bin/python bench/blas_gemm.py 2                              # PyPI's torch (MKL)

The argument is the thread count. Prints the median time and GFLOP/s of torch.mm per shape.
"""
import statistics, sys, time

import torch

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
for m, k, n in [(1250, 64, 64), (40000, 64, 64), (2000, 2000, 2000)]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(5):
        torch.mm(a, b)
    reps = max(5, int(2e9 / (2 * m * k * n)))
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t)
    dt = statistics.median(times)
    print(f"torch {torch.__version__} {m}x{k} by {k}x{n}: {dt * 1e6:.1f} us, {2 * m * k * n / dt / 1e9:.1f} GFLOP/s")
