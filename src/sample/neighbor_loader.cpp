// Prefetching mini-batch loader. See include/ripple/loader.h.
#include <ATen/ATen.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <fmt/format.h>

#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "ripple/error.h"
#include "ripple/loader.h"
#include "ripple/nn/context.h"

namespace ripple {
namespace {

template <class T>
void copy_rows(const T* src, int64_t width, const int64_t* nodes, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const T* row = src + nodes[i] * width;
    float* o = out + i * width;
    for (int64_t k = 0; k < width; ++k) o[k] = static_cast<float>(row[k]);
  }
}

}  // namespace

at::Tensor gather_rows(const at::Tensor& features, const at::Tensor& nodes) {
  if (features.dim() != 2 || !features.is_contiguous()) throw InputError("gather_rows: features must be 2-D, contiguous");
  const int64_t n = nodes.numel(), width = features.size(1);
  at::Tensor out = at::empty({n, width}, at::kFloat);
  const at::Tensor ids = nodes.to(at::kLong).contiguous();
  const int64_t* p = ids.data_ptr<int64_t>();
  float* o = out.data_ptr<float>();
  switch (features.scalar_type()) {
    case at::kFloat:
      for (int64_t i = 0; i < n; ++i) std::memcpy(o + i * width, features.data_ptr<float>() + p[i] * width, width * 4);
      break;
    case at::kHalf: copy_rows(features.data_ptr<c10::Half>(), width, p, n, o); break;
    case at::kBFloat16: copy_rows(features.data_ptr<c10::BFloat16>(), width, p, n, o); break;
    default: throw InputError(fmt::format("gather_rows: unsupported feature dtype {}", c10::toString(features.scalar_type())));
  }
  return out;
}

struct NeighborLoader::State {
  const Graph& graph;
  at::Tensor features, labels, seeds, order;
  LoaderOptions options;
  int64_t epoch = 0;

  std::mutex mutex;
  std::condition_variable changed;
  std::map<int64_t, LoadedBatch> ready;
  int64_t next_to_take = 0;     // next batch index a worker will prepare
  int64_t next_to_deliver = 0;  // next batch index next() returns
  bool stopping = false;
  std::exception_ptr error;
  std::vector<std::thread> threads;

  State(const Graph& g, at::Tensor f, at::Tensor l, at::Tensor s, LoaderOptions o)
      : graph(g), features(std::move(f)), labels(std::move(l)), seeds(std::move(s)), options(std::move(o)) {}

  int64_t num_batches() const { return (seeds.numel() + options.batch_size - 1) / options.batch_size; }

  LoadedBatch prepare(int64_t index) const {
    const int64_t begin = index * options.batch_size, end = std::min(seeds.numel(), begin + options.batch_size);
    LoadedBatch b;
    b.index = index;
    SamplerOptions so = options.sampler;
    so.parallel = false;  // the workers are the parallelism; the consumer keeps the OpenMP pool
    b.sample = sample_neighbors(graph, order.slice(0, begin, end), so, epoch, options.edge_weights);
    b.features = gather_rows(features, b.sample.input_nodes());
    if (labels.defined()) b.labels = labels.index_select(0, b.sample.seeds);
    return b;
  }

  void work() {
    for (;;) {
      int64_t index = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] {
          return stopping || next_to_take >= num_batches() || next_to_take < next_to_deliver + options.prefetch;
        });
        if (stopping || next_to_take >= num_batches()) return;
        index = next_to_take++;
      }
      try {
        LoadedBatch b = prepare(index);
        std::lock_guard<std::mutex> lock(mutex);
        ready.emplace(index, std::move(b));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        stopping = true;
      }
      changed.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    for (std::thread& t : threads) t.join();
    threads.clear();
  }
};

NeighborLoader::NeighborLoader(const Graph& graph, at::Tensor features, at::Tensor labels, at::Tensor seeds,
                               LoaderOptions options) {
  if (options.batch_size < 1) throw InputError(fmt::format("sampler.batch_size: expected >= 1, got {}", options.batch_size));
  if (options.workers < 1) throw InputError(fmt::format("sampler.workers: expected >= 1, got {}", options.workers));
  if (options.prefetch < 1) throw InputError(fmt::format("sampler.prefetch: expected >= 1, got {}", options.prefetch));
  if (features.dim() != 2 || features.size(0) != graph.num_nodes()) {
    throw InputError(fmt::format("loader: features must have one row per node ({}), got shape [{}]", graph.num_nodes(),
                                 fmt::join(features.sizes(), ", ")));
  }
  state_ = std::make_unique<State>(graph, features.contiguous(), labels, seeds.to(at::kLong).contiguous(),
                                   std::move(options));
}

NeighborLoader::~NeighborLoader() { state_->stop(); }

int64_t NeighborLoader::num_batches() const { return state_->num_batches(); }

void NeighborLoader::start_epoch(int64_t epoch) {
  State& s = *state_;
  s.stop();
  s.epoch = epoch;
  s.ready.clear();
  s.next_to_take = s.next_to_deliver = 0;
  s.stopping = false;
  s.error = nullptr;
  if (s.options.shuffle) {  // sort by a hash of (seed, epoch, node): a permutation no thread count changes
    const uint64_t key = nn::mix64(nn::mix64(s.options.sampler.seed ^ 0x10ADE5ull) + static_cast<uint64_t>(epoch));
    const int64_t n = s.seeds.numel();
    const int64_t* p = s.seeds.data_ptr<int64_t>();
    std::vector<std::pair<uint64_t, int64_t>> keyed(n);
    for (int64_t i = 0; i < n; ++i) keyed[i] = {nn::mix64(key + static_cast<uint64_t>(p[i])), p[i]};
    std::sort(keyed.begin(), keyed.end());
    s.order = at::empty({n}, at::kLong);
    for (int64_t i = 0; i < n; ++i) s.order.data_ptr<int64_t>()[i] = keyed[i].second;
  } else {
    s.order = s.seeds;
  }
  for (int64_t w = 0; w < s.options.workers; ++w) s.threads.emplace_back([&s] { s.work(); });
}

std::optional<LoadedBatch> NeighborLoader::next() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.next_to_deliver >= s.num_batches()) return std::nullopt;
  s.changed.wait(lock, [&] { return s.error || s.ready.count(s.next_to_deliver) > 0; });
  if (s.error) std::rethrow_exception(s.error);
  auto it = s.ready.find(s.next_to_deliver);
  LoadedBatch b = std::move(it->second);
  s.ready.erase(it);
  ++s.next_to_deliver;
  lock.unlock();
  s.changed.notify_all();
  return b;
}

}  // namespace ripple
