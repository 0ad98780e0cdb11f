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
#include <type_traits>
#include <vector>

#include "ripple/error.h"
#include "ripple/loader.h"
#include "ripple/nn/context.h"
#include "runtime/simd.h"

namespace ripple {
namespace {

// Rows are visited in sampled order, scattered over the (memory-mapped) feature array:
// the rows a few places ahead are prefetched so that their cache misses overlap.
constexpr int64_t kPrefetchRows = 8;

template <class T>
void prefetch_row(const T* row, int64_t width) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int64_t b = 0; b < width * static_cast<int64_t>(sizeof(T)); b += 64) __builtin_prefetch(p + b);
}

template <class T>
void copy_rows(const T* src, int64_t width, const int64_t* nodes, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    if (i + kPrefetchRows < n) prefetch_row(src + nodes[i + kPrefetchRows] * width, width);
    const T* row = src + nodes[i] * width;
    float* o = out + i * width;
    if constexpr (std::is_same_v<T, c10::Half>) {  // 8 halves at a time in hardware where it can
      simd::half_bits_to_floats(reinterpret_cast<const uint16_t*>(row), o, width);
    } else {
      for (int64_t k = 0; k < width; ++k) o[k] = static_cast<float>(row[k]);
    }
  }
}

}  // namespace

at::Tensor gather_rows(const at::Tensor& features, const at::Tensor& nodes, bool parallel) {
  if (features.dim() != 2 || !features.is_contiguous()) throw InputError("gather_rows: features must be 2-D, contiguous");
  const int64_t n = nodes.numel(), width = features.size(1);
  at::Tensor out = at::empty({n, width}, at::kFloat);
  const at::Tensor ids = nodes.to(at::kLong).contiguous();
  const int64_t* p = ids.data_ptr<int64_t>();
  float* o = out.data_ptr<float>();
  auto copy = [&](auto* src) {
    if (!parallel) return copy_rows(src, width, p, n, o);
    at::parallel_for(0, n, 2048, [&](int64_t begin, int64_t end) {
      copy_rows(src, width, p + begin, end - begin, o + begin * width);
    });
  };
  switch (features.scalar_type()) {
    case at::kFloat: copy(features.data_ptr<float>()); break;
    case at::kHalf: copy(features.data_ptr<c10::Half>()); break;
    case at::kBFloat16: copy(features.data_ptr<c10::BFloat16>()); break;
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

  // `parallel`: in the consumer's thread (workers = 0), on the intra-op pool.
  LoadedBatch prepare(int64_t index, bool parallel) const {
    const int64_t begin = index * options.batch_size, end = std::min(seeds.numel(), begin + options.batch_size);
    LoadedBatch b;
    b.index = index;
    SamplerOptions so = options.sampler;
    so.parallel = parallel;  // workers are the parallelism themselves; the consumer keeps the OpenMP pool
    b.sample = sample_neighbors(graph, order.slice(0, begin, end), so, epoch, options.edge_weights);
    b.features = gather_rows(features, b.sample.input_nodes(), parallel);
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
        LoadedBatch b = prepare(index, false);
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
  if (options.workers < 0) throw InputError(fmt::format("sampler.workers: expected >= 0, got {}", options.workers));
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
  if (s.options.workers == 0) {  // synchronous: this thread samples and gathers
    if (s.next_to_deliver >= s.num_batches()) return std::nullopt;
    return s.prepare(s.next_to_deliver++, true);
  }
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
