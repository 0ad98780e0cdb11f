// See src/cli/blas_kernels.h.
#include "cli/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <strings.h>

namespace ripple::cli {

void prefer_avx2_blas_kernels(int argc, char** argv) {
#if defined(__x86_64__)
  // Only the commands that run dense products pay for loading the libraries twice.
  if (argc < 2) return;
  const char* command = argv[1];
  if (std::strcmp(command, "train") != 0 && std::strcmp(command, "eval") != 0 && std::strcmp(command, "bench") != 0) return;
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
  (void)argc;
  (void)argv;
#endif
}

}  // namespace ripple::cli
