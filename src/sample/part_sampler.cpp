// Sampling on one part of a partitioned graph. See src/sample/part_sampler.h.
#include "sample/part_sampler.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "ripple/error.h"
#include "ripple/loader.h"
#include "sample/row_sampler.h"

namespace ripple {
namespace {

using sample_detail::hop_key;
using sample_detail::node_stream;
using sample_detail::RowSampler;

uint64_t as_unsigned(int64_t v) {
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

int64_t as_signed(uint64_t u) {
  int64_t v = 0;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// The local id of own node `g` named in a request from part `from`; InputError otherwise.
int64_t own_local(const PartGraph& part, int64_t g, int from) {
  const int64_t l = part.local_of(g);
  if (l < 0 || l >= part.owned()) {
    throw InputError(fmt::format("part {}: part {} asked for node {}, which part {} does not own; the ranks opened "
                                 "different partition folders", part.part(), from, g, part.part()));
  }
  return l;
}

}  // namespace

PartGraph::PartGraph(const Graph& graph, const at::Tensor& global_id, const at::Tensor& owner, int part, int parts,
                     int64_t num_global, const std::string& where)
    : part_(part), parts_(parts), num_global_(num_global) {
  const int64_t n = graph.num_nodes();
  if (global_id.dim() != 1 || global_id.numel() != n || global_id.scalar_type() != at::kLong) {
    throw InputError(fmt::format("{}: partition/global_id must be int64 [{}]", where, n));
  }
  if (owner.dim() != 1 || owner.numel() != n || owner.scalar_type() != at::kInt) {
    throw InputError(fmt::format("{}: partition/owner must be int32 [{}]", where, n));
  }
  global_id_ = global_id.contiguous();
  owner_ = owner.contiguous();
  const int64_t* gid = global_id_.data_ptr<int64_t>();
  const int32_t* own = owner_.data_ptr<int32_t>();
  while (owned_ < n && own[owned_] == part) ++owned_;
  by_global_.reserve(static_cast<size_t>(n));
  for (int64_t l = 0; l < n; ++l) {
    if (gid[l] < 0 || gid[l] >= num_global) {
      throw InputError(fmt::format("{}: partition/global_id[{}] = {} is outside the whole graph's {} nodes", where, l,
                                   gid[l], num_global));
    }
    if (own[l] < 0 || own[l] >= parts || (l >= owned_ && own[l] == part)) {
      throw InputError(fmt::format("{}: partition/owner[{}] = {}: expected a part in [0, {}), this part's own nodes "
                                   "first", where, l, own[l], parts));
    }
    by_global_.emplace_back(gid[l], l);
  }
  std::sort(by_global_.begin(), by_global_.end());
  for (size_t i = 1; i < by_global_.size(); ++i) {
    if (by_global_[i].first == by_global_[i - 1].first) {
      throw InputError(fmt::format("{}: partition/global_id holds node {} twice", where, by_global_[i].first));
    }
  }
  // Each row in ascending whole-graph id of its sources, as the whole graph's rows are.
  const at::Tensor indptr = graph.csc_indptr().to(at::kLong).contiguous();
  const at::Tensor indices = graph.csc_indices().to(at::kLong).contiguous();
  const int64_t* ip = indptr.data_ptr<int64_t>();
  at::Tensor ordered = indices.clone();
  int64_t* op = ordered.data_ptr<int64_t>();
  for (int64_t v = 0; v < n; ++v) {
    std::sort(op + ip[v], op + ip[v + 1], [&](int64_t a, int64_t b) { return gid[a] < gid[b]; });
  }
  GraphFlags flags = graph.flags();
  flags.sorted = false;
  graph_ = Graph::from_csc(n, indptr, ordered, flags);
  full_row_.assign(static_cast<size_t>(n), 0);
  halo_sources_.assign(static_cast<size_t>(parts), {});
  std::vector<uint8_t> seen(static_cast<size_t>(n), 0);
  for (int64_t e = 0; e < ip[owned_]; ++e) {
    const int64_t u = op[e];
    if (u >= owned_ && !seen[static_cast<size_t>(u)]) {
      seen[static_cast<size_t>(u)] = 1;
      halo_sources_[static_cast<size_t>(own[u])].push_back(u);
    }
  }
  for (auto& s : halo_sources_) std::sort(s.begin(), s.end());
}

int64_t PartGraph::local_of(int64_t global) const {
  const auto it = std::lower_bound(by_global_.begin(), by_global_.end(),
                                   std::make_pair(global, std::numeric_limits<int64_t>::min()));
  return it != by_global_.end() && it->first == global ? it->second : -1;
}

at::Tensor PartGraph::own_degrees() const { return degrees_of_first(owned_); }

at::Tensor PartGraph::held_degrees() const { return degrees_of_first(num_local()); }

at::Tensor PartGraph::degrees_of_first(int64_t count) const {
  at::Tensor out = at::zeros({2, num_global_}, at::kFloat);
  float* in = out.data_ptr<float>();
  float* gcn = in + num_global_;
  const int64_t* ip = graph_.csc_indptr().data_ptr<int64_t>();
  const int64_t* idx = graph_.csc_indices().data_ptr<int64_t>();
  const int64_t* gid = global_id_.data_ptr<int64_t>();
  for (int64_t v = 0; v < count; ++v) {
    const bool self_loop = std::find(idx + ip[v], idx + ip[v + 1], v) != idx + ip[v + 1];
    in[gid[v]] = static_cast<float>(ip[v + 1] - ip[v]);
    gcn[gid[v]] = in[gid[v]] + (self_loop ? 0.0F : 1.0F);
  }
  return out;
}

void PartGraph::set_whole_degrees(const at::Tensor& summed) {
  if (summed.dim() != 2 || summed.size(0) != 2 || summed.size(1) != num_global_) {
    throw std::invalid_argument("PartGraph::set_whole_degrees: expected float32 [2, num_global]");
  }
  const at::Tensor s = summed.to(at::kFloat).contiguous();
  gcn_degree_ = s[1].clone();
  const float* in = s.data_ptr<float>();
  const int64_t* ip = graph_.csc_indptr().data_ptr<int64_t>();
  const int64_t* gid = global_id_.data_ptr<int64_t>();
  for (int64_t v = 0; v < num_local(); ++v) {
    full_row_[static_cast<size_t>(v)] = static_cast<float>(ip[v + 1] - ip[v]) == in[gid[v]] ? 1 : 0;
  }
}

at::Tensor request_sampled_rows(uint64_t seed, int64_t epoch, int64_t hop, const std::vector<int64_t>& nodes) {
  at::Tensor out = at::empty({static_cast<int64_t>(nodes.size()) + 3}, at::kLong);
  int64_t* p = out.data_ptr<int64_t>();
  p[0] = as_signed(seed);
  p[1] = epoch;
  p[2] = hop;
  std::copy(nodes.begin(), nodes.end(), p + 3);
  return out;
}

at::Tensor answer_sampled_rows(const PartGraph& part, const SamplerOptions& options, const at::Tensor& request, int from) {
  if (request.numel() == 0) return at::empty({0}, at::kLong);
  const at::Tensor req = request.contiguous();
  const int64_t* r = req.data_ptr<int64_t>();
  const int64_t hop = r[2], n = req.numel() - 3;
  if (n < 0 || hop < 0 || hop >= static_cast<int64_t>(options.fanouts.size())) {
    throw InputError(fmt::format("part {}: malformed sampling request from part {} (hop {} of {})", part.part(), from,
                                 hop, options.fanouts.size()));
  }
  const uint64_t key = hop_key(as_unsigned(r[0]), r[1], hop);
  const RowSampler rows(options.fanouts[static_cast<size_t>(hop)], options.replace, nullptr);
  const int64_t* ip = part.graph().csc_indptr().data_ptr<int64_t>();
  const int64_t* idx = part.graph().csc_indices().data_ptr<int64_t>();
  const int64_t* gid = part.global_id().data_ptr<int64_t>();
  const int32_t* own = part.owner().data_ptr<int32_t>();
  std::vector<int64_t> local(static_cast<size_t>(n)), counts(static_cast<size_t>(n));
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = local[static_cast<size_t>(i)] = own_local(part, r[3 + i], from);
    total += counts[static_cast<size_t>(i)] = rows.count(ip[l], ip[l + 1]);
  }
  at::Tensor out = at::empty({n + 2 * total}, at::kLong);
  int64_t* counts_out = out.data_ptr<int64_t>();
  int64_t* ids_out = counts_out + n;
  int64_t* owners_out = ids_out + total;
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = local[static_cast<size_t>(i)], c = counts[static_cast<size_t>(i)];
    counts_out[i] = c;
    positions.resize(static_cast<size_t>(c));
    rows.fill(ip[l], ip[l + 1], node_stream(key, r[3 + i]), positions.data(), c);
    for (const int64_t p : positions) {
      *ids_out++ = gid[idx[p]];
      *owners_out++ = own[idx[p]];
    }
  }
  return out;
}

at::Tensor own_local_ids(const PartGraph& part, const at::Tensor& request, int from) {
  const at::Tensor req = request.to(at::kLong).contiguous();
  at::Tensor local = at::empty({req.numel()}, at::kLong);
  int64_t* out = local.data_ptr<int64_t>();
  for (int64_t i = 0; i < req.numel(); ++i) out[i] = own_local(part, req.data_ptr<int64_t>()[i], from);
  return local;
}

at::Tensor answer_table_rows(const PartGraph& part, const at::Tensor& table, const at::Tensor& request, int from) {
  return gather_rows(table, own_local_ids(part, request, from));
}

PartBatch sample_on_part(const PartGraph& part, const at::Tensor& features, const at::Tensor& seeds_in,
                         const SamplerOptions& options, int64_t epoch, RemoteRows* remote) {
  if (options.fanouts.empty()) throw InputError("sampler.fanouts: expected at least one hop, got []");
  const at::Tensor seeds = seeds_in.to(at::kLong).contiguous();
  const int64_t* ip = part.graph().csc_indptr().data_ptr<int64_t>();
  const int64_t* idx = part.graph().csc_indices().data_ptr<int64_t>();
  const int64_t* gid = part.global_id().data_ptr<int64_t>();
  const int32_t* own = part.owner().data_ptr<int32_t>();
  const auto parts = static_cast<size_t>(part.parts());

  std::vector<int32_t>& position = sample_detail::position_scratch(part.num_global());
  std::vector<int64_t> nodes, local;  // whole-graph id and local id (-1: beyond the part) by batch position
  std::vector<int32_t> owner;
  struct ScratchReset {  // leaves the scratch all -1 however this call ends
    std::vector<int32_t>& position;
    std::vector<int64_t>& nodes;
    ~ScratchReset() {
      for (const int64_t g : nodes) position[static_cast<size_t>(g)] = -1;
    }
  } reset{position, nodes};
  const auto add = [&](int64_t g, int32_t o, int64_t l) {
    position[static_cast<size_t>(g)] = static_cast<int32_t>(nodes.size());
    nodes.push_back(g);
    owner.push_back(o);
    local.push_back(l);
  };
  for (int64_t i = 0; i < seeds.numel(); ++i) {
    const int64_t s = seeds.data_ptr<int64_t>()[i];
    if (s < 0 || s >= part.owned()) {
      throw InputError(fmt::format("seeds[{}] = {} is not an own node of part {} (own nodes: [0, {}))", i, s,
                                   part.part(), part.owned()));
    }
    if (position[static_cast<size_t>(gid[s])] >= 0) throw InputError(fmt::format("seeds[{}] = {} appears twice", i, s));
    add(gid[s], own[s], s);
  }
  PartBatch out;
  out.sample.seeds = at::tensor(nodes, at::kLong);

  std::vector<Block> hops;
  for (size_t hop = 0; hop < options.fanouts.size(); ++hop) {
    const auto num_dst = static_cast<int64_t>(nodes.size());
    const uint64_t key = hop_key(options.seed, epoch, static_cast<int64_t>(hop));
    const RowSampler rows(options.fanouts[hop], options.replace, nullptr);
    // Rows sampled here, and rows asked of their owners (by owner, in batch order).
    std::vector<uint8_t> asked(static_cast<size_t>(num_dst), 0);
    std::vector<std::vector<int64_t>> asked_of(parts);
    at::Tensor block_indptr = at::zeros({num_dst + 1}, at::kLong);
    int64_t* bp = block_indptr.data_ptr<int64_t>();
    for (int64_t v = 0; v < num_dst; ++v) {
      const int64_t l = local[static_cast<size_t>(v)];
      if (remote != nullptr && (l < 0 || !part.full_row(l))) {
        asked[static_cast<size_t>(v)] = 1;
        asked_of[static_cast<size_t>(owner[static_cast<size_t>(v)])].push_back(nodes[static_cast<size_t>(v)]);
      } else if (l >= 0) {
        bp[v + 1] = rows.count(ip[l], ip[l + 1]);
      } else {
        throw std::logic_error("sample_on_part: a node beyond the part without remote rows");
      }
    }
    // The owners' answers: per asked node its count, then the ids, then their owners.
    std::vector<at::Tensor> answers(parts);
    std::vector<const int64_t*> answer_count(parts), answer_id(parts), answer_owner(parts);
    if (remote != nullptr) {
      std::vector<at::Tensor> requests(parts);
      for (size_t r = 0; r < parts; ++r) {
        requests[r] = asked_of[r].empty() ? at::empty({0}, at::kLong)
                                          : request_sampled_rows(options.seed, epoch, static_cast<int64_t>(hop), asked_of[r]);
      }
      answers = remote->sampled_rows(requests);
      for (size_t r = 0; r < parts; ++r) {
        const auto n = static_cast<int64_t>(asked_of[r].size());
        if (n == 0) continue;
        answers[r] = answers[r].contiguous();
        answer_count[r] = answers[r].data_ptr<int64_t>();
        int64_t total = 0;
        for (int64_t i = 0; i < n; ++i) total += answer_count[r][i];
        if (answers[r].numel() != n + 2 * total) {
          throw InputError(fmt::format("part {}: part {} answered {} values for {} sampled rows of {} neighbours",
                                       part.part(), r, answers[r].numel(), n, total));
        }
        answer_id[r] = answer_count[r] + n;
        answer_owner[r] = answer_id[r] + total;
      }
      for (int64_t v = 0; v < num_dst; ++v) {
        if (asked[static_cast<size_t>(v)]) bp[v + 1] = *answer_count[static_cast<size_t>(owner[static_cast<size_t>(v)])]++;
      }
    }
    for (int64_t v = 0; v < num_dst; ++v) bp[v + 1] += bp[v];
    const int64_t edges = bp[num_dst];
    at::Tensor edge_ids = at::empty({edges}, at::kLong), block_indices = at::empty({edges}, at::kLong);
    int64_t* ep = edge_ids.data_ptr<int64_t>();
    int64_t* bi = block_indices.data_ptr<int64_t>();
    // Relabel in edge order, so batch positions depend only on the sample.
    for (int64_t v = 0; v < num_dst; ++v) {
      const int64_t begin = bp[v], count = bp[v + 1] - begin;
      if (asked[static_cast<size_t>(v)]) {
        const auto r = static_cast<size_t>(owner[static_cast<size_t>(v)]);
        for (int64_t j = 0; j < count; ++j) {
          const int64_t g = *answer_id[r]++;
          const auto o = static_cast<int32_t>(*answer_owner[r]++);
          if (g < 0 || g >= part.num_global() || o < 0 || o >= part.parts()) {
            throw InputError(fmt::format("part {}: part {} answered neighbour {} of owner {}, outside the graph", part.part(),
                                         r, g, o));
          }
          if (position[static_cast<size_t>(g)] < 0) add(g, o, part.local_of(g));
          ep[begin + j] = -1;
          bi[begin + j] = position[static_cast<size_t>(g)];
        }
      } else {
        const int64_t l = local[static_cast<size_t>(v)];
        rows.fill(ip[l], ip[l + 1], node_stream(key, nodes[static_cast<size_t>(v)]), ep + begin, count);
        for (int64_t j = 0; j < count; ++j) {
          const int64_t u = idx[ep[begin + j]];
          if (position[static_cast<size_t>(gid[u])] < 0) add(gid[u], own[u], u);
          bi[begin + j] = position[static_cast<size_t>(gid[u])];
        }
      }
    }
    GraphFlags flags;
    flags.sorted = false;
    flags.deduplicated = !options.replace && part.graph().flags().deduplicated;
    Block block;
    block.graph = Graph::from_csc(static_cast<int64_t>(nodes.size()), block_indptr, block_indices, flags);
    block.src_nodes = at::tensor(nodes, at::kLong);
    block.edge_ids = edge_ids;
    hops.push_back(std::move(block));
  }
  out.sample.blocks.assign(std::make_move_iterator(hops.rbegin()), std::make_move_iterator(hops.rend()));

  // Input features: the part's rows where it holds the node, the owners' otherwise.
  const auto n = static_cast<int64_t>(nodes.size());
  out.features = at::empty({n, features.size(1)}, at::kFloat);
  std::vector<int64_t> here, here_local;
  std::vector<std::vector<int64_t>> beyond(parts), beyond_at(parts);
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    if (local[k] >= 0) {
      here.push_back(i);
      here_local.push_back(local[k]);
    } else {
      beyond[static_cast<size_t>(owner[k])].push_back(nodes[k]);
      beyond_at[static_cast<size_t>(owner[k])].push_back(i);
    }
  }
  out.features.index_copy_(0, at::tensor(here, at::kLong), gather_rows(features, at::tensor(here_local, at::kLong)));
  if (remote != nullptr) {
    std::vector<at::Tensor> requests(parts);
    for (size_t r = 0; r < parts; ++r) requests[r] = at::tensor(beyond[r], at::kLong);
    const std::vector<at::Tensor> rows = remote->feature_rows(requests);
    for (size_t r = 0; r < parts; ++r) {
      if (beyond[r].empty()) continue;
      if (rows[r].dim() != 2 || rows[r].size(0) != static_cast<int64_t>(beyond[r].size()) ||
          rows[r].size(1) != features.size(1)) {
        throw InputError(fmt::format("part {}: part {} answered feature rows of shape [{}] for {} nodes of {} features",
                                     part.part(), r, fmt::join(rows[r].sizes(), ", "), beyond[r].size(), features.size(1)));
      }
      out.features.index_copy_(0, at::tensor(beyond_at[r], at::kLong), rows[r].to(at::kFloat));
    }
  }
  return out;
}

}  // namespace ripple
