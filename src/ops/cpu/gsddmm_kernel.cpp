// gsddmm on the CPU: one output row per edge, computed row by row of the CSC.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "ops/broadcast.h"
#include "ops/cpu/functors.h"
#include "ops/cpu/graph_check.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/memory_access.h"

namespace ripple::ops::cpu {
namespace {

using detail::BinaryOp;
using detail::Broadcast;
using detail::Target;

int64_t pick(Target t, int64_t u, int64_t e, int64_t v) {
  return t == Target::kSrc ? u : (t == Target::kDst ? v : e);
}

// The rows gathered by source node are the random reads; the ones of the edge
// prefetch_edges() ahead are prefetched (destination rows repeat along a CSC row and stay in
// cache, edge rows are read in order unless eids permute them).
template <typename T, typename I, typename Op, bool kDot>
void sddmm_rows(const I* indptr, const I* indices, const I* eids, int64_t num_dst, const T* lhs,
                const T* rhs, T* out, Target lt, Target rt, const Broadcast& bc) {
  const int64_t len = bc.out_len;
  const int64_t red = bc.reduce_size;
  parallel_for_balanced_rows(indptr, num_dst, len * red, [&](int64_t begin, int64_t end) {
    const int64_t last_edge = static_cast<int64_t>(indptr[end]) - 1;
    const int64_t gathered = (lt == Target::kSrc ? bc.lhs_len : 0) + (rt == Target::kSrc ? bc.rhs_len : 0);
    const int64_t distance = prefetch_edges(gathered * static_cast<int64_t>(sizeof(T)));
    for (int64_t v = begin; v < end; ++v) {
      for (int64_t p = indptr[v]; p < indptr[v + 1]; ++p) {
        if (gathered > 0) {
          const int64_t ahead = static_cast<int64_t>(indices[std::min(p + distance, last_edge)]);
          if (lt == Target::kSrc) prefetch_row<T, I>(lhs, ahead, bc.lhs_len);
          if (rt == Target::kSrc) prefetch_row<T, I>(rhs, ahead, bc.rhs_len);
        }
        const int64_t u = indices[p];
        const int64_t e = eids ? static_cast<int64_t>(eids[p]) : p;
        const T* l = lhs + pick(lt, u, e, v) * bc.lhs_len;
        const T* r = rhs + pick(rt, u, e, v) * bc.rhs_len;
        T* o = out + e * len;
        for (int64_t k = 0; k < len; ++k) {
          const T* lk = l + (bc.use_offsets ? bc.lhs_offset[k] : k * red);
          const T* rk = r + (bc.use_offsets ? bc.rhs_offset[k] : k * red);
          if constexpr (kDot) {
            o[k] = dot_product(lk, rk, red);
          } else {
            o[k] = Op::call(lk[0], rk[0]);
          }
        }
      }
    }
  });
}

}  // namespace

at::Tensor gsddmm_forward(const at::Tensor& indptr, const at::Tensor& indices,
                          const c10::optional<at::Tensor>& eids_opt, const std::string& op_name,
                          const at::Tensor& lhs_in, const at::Tensor& rhs_in,
                          const std::string& lhs_target, const std::string& rhs_target, int64_t num_src) {
  const BinaryOp op = detail::parse_sddmm_op(op_name);
  const Target lt = detail::parse_target(lhs_target), rt = detail::parse_target(rhs_target);
  TORCH_CHECK(lhs_in.defined() && rhs_in.defined() && lhs_in.dim() >= 1 && rhs_in.dim() >= 1,
              "gsddmm: lhs and rhs must be tensors with a row dimension");
  TORCH_CHECK(lhs_in.scalar_type() == rhs_in.scalar_type() && at::isFloatingType(lhs_in.scalar_type()),
              "gsddmm: lhs (", lhs_in.scalar_type(), ") and rhs (", rhs_in.scalar_type(),
              ") must share a floating dtype");
  at::Tensor eids;
  if (eids_opt.has_value() && eids_opt->defined()) eids = eids_opt->contiguous();
  const GraphExtent graph = check_graph("gsddmm", indptr, indices, eids, num_src);
  // copy_lhs reads no row of rhs (copy_rhs none of lhs), so that side's row count is free.
  if (op != BinaryOp::kCopyRhs) check_operand("gsddmm", "lhs", lhs_in, lt, graph);
  if (op != BinaryOp::kCopyLhs) check_operand("gsddmm", "rhs", rhs_in, rt, graph);
  const int64_t num_dst = graph.num_dst, num_edges = graph.num_edges;
  const at::Tensor lhs = lhs_in.contiguous(), rhs = rhs_in.contiguous();

  // copy ops are sddmm with the other side ignored: express them as add with zero.
  const bool copy_lhs = op == BinaryOp::kCopyLhs, copy_rhs = op == BinaryOp::kCopyRhs;
  std::vector<int64_t> ls(lhs.sizes().begin() + 1, lhs.sizes().end());
  std::vector<int64_t> rs(rhs.sizes().begin() + 1, rhs.sizes().end());
  const Broadcast bc = detail::compute_broadcast(copy_rhs ? rs : ls, copy_lhs ? ls : rs,
                                                 op == BinaryOp::kDot);
  std::vector<int64_t> out_sizes{num_edges};
  out_sizes.insert(out_sizes.end(), bc.out_shape.begin(), bc.out_shape.end());
  at::Tensor out = at::empty(out_sizes, lhs.options());
  count_output(out);
  const at::Tensor ip = indptr.contiguous(), ix = indices.contiguous();

  AT_DISPATCH_FLOATING_TYPES(lhs.scalar_type(), "gsddmm", [&] {
    using T = scalar_t;
    AT_DISPATCH_INDEX_TYPES(ip.scalar_type(), "gsddmm_index", [&] {
      using I = index_t;
      const I* e = eids.defined() ? eids.data_ptr<I>() : nullptr;
      const T* lp = (copy_rhs ? rhs : lhs).data_ptr<T>();
      const T* rp = (copy_lhs ? lhs : rhs).data_ptr<T>();
      const Target lt2 = copy_rhs ? rt : lt, rt2 = copy_lhs ? lt : rt;
      if (op == BinaryOp::kDot) {
        sddmm_rows<T, I, OpMul, true>(ip.data_ptr<I>(), ix.data_ptr<I>(), e, num_dst, lp, rp,
                                      out.data_ptr<T>(), lt2, rt2, bc);
      } else {
        dispatch_binary_op(copy_lhs || copy_rhs ? BinaryOp::kCopyLhs : op, [&](auto op_tag) {
          using Op = decltype(op_tag);
          sddmm_rows<T, I, Op, false>(ip.data_ptr<I>(), ix.data_ptr<I>(), e, num_dst, lp, rp,
                                      out.data_ptr<T>(), lt2, rt2, bc);
        });
      }
    });
  });
  return out;
}

}  // namespace ripple::ops::cpu
