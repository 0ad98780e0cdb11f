// See src/cli/blas_kernels.h.
#include "cli/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <strings.h>

namespace ripple::cli {

void prefer_avx2_blas_kernels(char** argv) {
#if defined(__x86_64__)
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || std::getenv("RIPPLE_KEEP_BLAS_KERNELS") != nullptr) return;
  using CoreName = char* (*)();
  const auto corename = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (corename == nullptr) return;  // another BLAS
  const char* core = corename();
  if (core == nullptr || strcasecmp(core, "prescott") != 0) return;
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return;
  if (setenv("OPENBLAS_CORETYPE", "Haswell", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: carry on with the kernels already loaded
#else
  (void)argv;
#endif
}

}  // namespace ripple::cli
