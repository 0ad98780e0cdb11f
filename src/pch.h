// Precompiled header for Ripple's targets: LibTorch's headers dominate compile time
// (about 20 s per translation unit without this), so they are parsed once per target.
#pragma once
#include <torch/torch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
