// `ripple train|eval|bench` leave OpenBLAS's Prescott fallback for its AVX2 kernels when the
// processor has them (src/cli/blas_kernels.h); a kernel choice the user made is kept.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <strings.h>

#include "support/cli.h"

namespace ripple {
namespace {

// What OpenBLAS chose in this (test) process, which does not switch; "" for another BLAS.
std::string corename_here() {
  using CoreName = char* (*)();
  const auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return f ? std::string(f()) : std::string();
}

TEST(BlasKernels, RippleSwitchesFromThePrescottFallbackToAvx2) {
  const std::string here = corename_here();
  const testing::CommandResult r = testing::run_ripple("train --help", "unset OPENBLAS_CORETYPE; OPENBLAS_VERBOSE=2 ");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--config"), std::string::npos) << r.output;
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (strcasecmp(here.c_str(), "prescott") == 0 && avx2 && getenv("OPENBLAS_CORETYPE") == nullptr) {
    EXPECT_NE(r.output.find("Core: Haswell"), std::string::npos) << r.output;
  } else if (!here.empty()) {
    EXPECT_EQ(r.output.find("Core: Haswell"), std::string::npos) << "no switch expected with core " << here;
  }
  const testing::CommandResult kept = testing::run_ripple("train --help", "OPENBLAS_CORETYPE=Prescott OPENBLAS_VERBOSE=2 ");
  if (!here.empty()) {
    EXPECT_NE(kept.output.find("Core: Prescott"), std::string::npos) << kept.output;
  }
  // Commands without dense products never switch (no second start-up).
  const testing::CommandResult info = testing::run_ripple("--version", "unset OPENBLAS_CORETYPE; OPENBLAS_VERBOSE=2 ");
  EXPECT_EQ(info.output.find("Core: Haswell"), std::string::npos) << info.output;
}

}  // namespace
}  // namespace ripple
