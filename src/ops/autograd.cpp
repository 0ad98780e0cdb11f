// Autograd for ripple::gspmm and ripple::gsddmm, and for the
// graph-handle forms ripple::gspmm_graph and ripple::gsddmm_graph.
//
// Backward passes are written in the same algebra: the gradient towards sources is a gspmm
// on the reverse graph, the gradient towards edges a gsddmm, so they stay free of edge-sized
// intermediates wherever the forward was (max/min and a few broadcast cases of gsddmm
// gather per edge; noted inline). Gradients of gspmm/gsddmm are themselves differentiable.
#include "ops/autograd.h"

#include <ATen/ATen.h>
#include <ATen/ExpandUtils.h>
#include <torch/csrc/autograd/custom_function.h>

#include "ops/cpu/graph_check.h"
#include "ops/dispatch.h"
#include "ops/op_names.h"

namespace ripple::ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using detail::BinaryOp;
using detail::Reduce;
using detail::Target;

at::Tensor value_or_undefined(const c10::optional<at::Tensor>& t) {
  return t.has_value() ? *t : at::Tensor();
}

c10::optional<at::Tensor> opt(const at::Tensor& t) {
  return t.defined() ? c10::optional<at::Tensor>(t) : c10::nullopt;
}

// Graph arrays carried through autograd; `reversed()` swaps the two directions.
struct GraphArgs {
  at::Tensor indptr, indices, eids, rev_indptr, rev_indices, rev_eids;
  GraphArgs reversed() const { return {rev_indptr, rev_indices, rev_eids, indptr, indices, eids}; }
  int64_t num_dst() const { return indptr.numel() - 1; }
  int64_t num_src() const { return rev_indptr.numel() - 1; }
  int64_t num_edges() const { return indices.numel(); }
  at::Tensor spmm(const std::string& op, const std::string& reduce, const at::Tensor& lhs,
                  const at::Tensor& rhs) const {
    return dispatch::gspmm(indptr, indices, opt(eids), rev_indptr, rev_indices, opt(rev_eids), op,
                           reduce, opt(lhs), opt(rhs));
  }
  at::Tensor sddmm(const std::string& op, const at::Tensor& lhs, const at::Tensor& rhs,
                   const std::string& lt, const std::string& rt) const {
    return dispatch::gsddmm(indptr, indices, opt(eids), rev_indptr, rev_indices, opt(rev_eids), op,
                            lhs, rhs, lt, rt);
  }
  // Source and destination node of every edge row (edge rows follow eids when present).
  std::pair<at::Tensor, at::Tensor> edge_endpoints() const {
    const at::Tensor ptr = indptr.to(at::kLong);
    const at::Tensor deg = ptr.slice(0, 1) - ptr.slice(0, 0, num_dst());
    at::Tensor src = indices.to(at::kLong);
    at::Tensor dst = at::repeat_interleave(at::arange(num_dst(), ptr.options()), deg);
    if (eids.defined()) {
      const at::Tensor e = eids.to(at::kLong);
      src = at::empty_like(src).index_put_({e}, src);
      dst = at::empty_like(dst).index_put_({e}, dst);
    }
    return {src, dst};
  }
};

void save_graph(AutogradContext* ctx, const GraphArgs& g) {
  ctx->saved_data["indptr"] = g.indptr;
  ctx->saved_data["indices"] = g.indices;
  ctx->saved_data["eids"] = g.eids;
  ctx->saved_data["rev_indptr"] = g.rev_indptr;
  ctx->saved_data["rev_indices"] = g.rev_indices;
  ctx->saved_data["rev_eids"] = g.rev_eids;
}

GraphArgs load_graph(AutogradContext* ctx) {
  auto get = [&](const char* k) {
    const c10::IValue& v = ctx->saved_data[k];
    return v.isTensor() ? v.toTensor() : at::Tensor();
  };
  return {get("indptr"), get("indices"), get("eids"), get("rev_indptr"), get("rev_indices"), get("rev_eids")};
}

// Sum a full-shape gradient down to `like`'s shape (undoing feature broadcasting).
at::Tensor reduce_to(const at::Tensor& grad, const at::Tensor& like) {
  if (grad.sizes() == like.sizes()) return grad;
  const int64_t rows = like.size(0);
  std::vector<int64_t> feat(like.sizes().begin() + 1, like.sizes().end());
  at::Tensor g = grad;
  // Left-pad `like`'s feature shape to the gradient's rank before summing.
  std::vector<int64_t> target{rows};
  const int64_t pad = grad.dim() - 1 - static_cast<int64_t>(feat.size());
  for (int64_t i = 0; i < pad; ++i) target.push_back(1);
  target.insert(target.end(), feat.begin(), feat.end());
  return at::sum_to(g, target).reshape(like.sizes());
}

at::Tensor gather_rows_per_element(const at::Tensor& src, const at::Tensor& out_like,
                                   const at::Tensor& arg) {
  // Element k of output row v takes src[arg[v,k], k] (src broadcast to the output shape).
  std::vector<int64_t> full{src.size(0)};
  full.insert(full.end(), out_like.sizes().begin() + 1, out_like.sizes().end());
  const int64_t len = out_like.numel() / std::max<int64_t>(out_like.size(0), 1);
  at::Tensor expanded = src.dim() == 1 ? src.view({-1, 1}) : src;
  while (expanded.dim() < static_cast<int64_t>(full.size())) expanded = expanded.unsqueeze(1);
  expanded = expanded.expand(full).reshape({src.size(0), len});
  return at::gather(expanded, 0, arg.clamp_min(0).reshape({out_like.size(0), len})).view(out_like.sizes());
}

at::Tensor scatter_rows_per_element(const at::Tensor& contrib, const at::Tensor& arg, int64_t rows) {
  const int64_t len = contrib.numel() / std::max<int64_t>(contrib.size(0), 1);
  std::vector<int64_t> full{rows};
  full.insert(full.end(), contrib.sizes().begin() + 1, contrib.sizes().end());
  at::Tensor masked = contrib * (arg >= 0).to(contrib.scalar_type());
  return at::zeros({rows, len}, contrib.options())
      .scatter_add(0, arg.clamp_min(0).reshape({contrib.size(0), len}), masked.reshape({contrib.size(0), len}))
      .view(full);
}

class GSpmmFunction : public torch::autograd::Function<GSpmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& indptr, const at::Tensor& indices,
                            const c10::optional<at::Tensor>& eids_opt, const at::Tensor& rev_indptr,
                            const at::Tensor& rev_indices, const c10::optional<at::Tensor>& rev_eids_opt,
                            std::string op, std::string reduce, const c10::optional<at::Tensor>& lhs_opt,
                            const c10::optional<at::Tensor>& rhs_opt) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor eids = value_or_undefined(eids_opt), rev_eids = value_or_undefined(rev_eids_opt);
    const at::Tensor lhs = value_or_undefined(lhs_opt), rhs = value_or_undefined(rhs_opt);
    // needs_input_grad counts tensor inputs only (absent optionals are skipped).
    const int64_t lhs_slot = 4 + eids.defined() + rev_eids.defined();
    ctx->saved_data["lhs_slot"] = lhs_slot;
    ctx->saved_data["rhs_slot"] = lhs_slot + (lhs.defined() ? 1 : 0);
    auto [out, arg_src, arg_edge] = dispatch::gspmm_forward(
        indptr, indices, opt(eids), op, reduce, opt(lhs), opt(rhs), rev_indptr.numel() - 1);
    save_graph(ctx, {indptr, indices, eids, rev_indptr, rev_indices, rev_eids});
    ctx->saved_data["op"] = op;
    ctx->saved_data["reduce"] = reduce;
    ctx->save_for_backward({lhs, rhs, arg_src, arg_edge, out});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto [grad_lhs, grad_rhs] = operand_grads(ctx, load_graph(ctx), grads);
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), grad_lhs, grad_rhs};
  }

  // The gradients of lhs and rhs; shared with the graph-handle form (GSpmmGraphFunction).
  static std::pair<at::Tensor, at::Tensor> operand_grads(AutogradContext* ctx, const GraphArgs& g,
                                                         const variable_list& grads) {
    const std::string op_name = ctx->saved_data["op"].toStringRef();
    const BinaryOp op = detail::parse_spmm_op(op_name);
    const Reduce reduce = detail::parse_reduce(ctx->saved_data["reduce"].toStringRef());
    auto saved = ctx->get_saved_variables();
    const at::Tensor lhs = saved[0], rhs = saved[1], arg_src = saved[2], arg_edge = saved[3], out = saved[4];
    at::Tensor grad = grads[0].contiguous();
    at::Tensor grad_lhs, grad_rhs;
    const bool want_lhs = detail::uses_lhs(op) && lhs.defined() && ctx->needs_input_grad(ctx->saved_data["lhs_slot"].toInt());
    const bool want_rhs = detail::uses_rhs(op) && rhs.defined() && ctx->needs_input_grad(ctx->saved_data["rhs_slot"].toInt());

    if (reduce == Reduce::kSum || reduce == Reduce::kMean) {
      if (reduce == Reduce::kMean) {
        const at::Tensor ptr = g.indptr.to(at::kLong);
        at::Tensor deg = (ptr.slice(0, 1) - ptr.slice(0, 0, g.num_dst())).clamp_min(1).to(grad.scalar_type());
        std::vector<int64_t> shape(grad.dim(), 1);
        shape[0] = g.num_dst();
        grad = grad / deg.view(shape);
      }
      const GraphArgs r = g.reversed();
      // x[u] * w[e] with one weight per head and both gradients wanted (GAT's attention):
      // one fused pass over the reverse graph instead of a reverse spmm and an sddmm.
      const bool fused = op == BinaryOp::kMul && want_lhs && want_rhs && grad.is_cpu() && grad.dim() >= 2 &&
                         lhs.dim() == grad.dim() && lhs.sizes().slice(1) == grad.sizes().slice(1) &&
                         rhs.dim() == grad.dim() && rhs.size(-1) == 1 && grad.size(-1) > 1 &&
                         rhs.sizes().slice(1, rhs.dim() - 2) == grad.sizes().slice(1, grad.dim() - 2);
      if (fused) {
        std::tie(grad_lhs, grad_rhs) = dispatch::gspmm_mul_sum_backward(r.indptr, r.indices, opt(r.eids), grad, lhs, rhs);
      }
      if (want_lhs && !fused) {
        at::Tensor full;
        if (op == BinaryOp::kMul) full = r.spmm("mul", "sum", grad, rhs);
        else if (op == BinaryOp::kDiv) full = r.spmm("div", "sum", grad, rhs);
        else full = r.spmm("copy_lhs", "sum", grad, at::Tensor());
        grad_lhs = reduce_to(full, lhs);
      }
      if (want_rhs && !fused) {
        at::Tensor full;
        if (op == BinaryOp::kCopyRhs || op == BinaryOp::kAdd) {
          full = g.sddmm("copy_lhs", grad, grad, "dst", "dst");
        } else if (op == BinaryOp::kSub) {
          full = -g.sddmm("copy_lhs", grad, grad, "dst", "dst");
        } else if (op == BinaryOp::kMul) {
          // [E, ..., 1] edge weights against [N, ..., D] features: contract D without an E*D tensor.
          const bool contract = rhs.dim() == grad.dim() && rhs.size(-1) == 1 && grad.size(-1) > 1 &&
                                lhs.dim() == grad.dim() && lhs.sizes().slice(1) == grad.sizes().slice(1) &&
                                rhs.sizes().slice(1, rhs.dim() - 2) == grad.sizes().slice(1, grad.dim() - 2);
          full = contract ? g.sddmm("dot", lhs, grad, "src", "dst") : g.sddmm("mul", lhs, grad, "src", "dst");
        } else {  // div: d(l/r)/dr = -l/r^2
          full = -g.sddmm("mul", lhs, grad, "src", "dst") / (rhs * rhs);
        }
        grad_rhs = reduce_to(full, rhs);
      }
    } else {
      // max/min: the gradient goes to the winning (source, edge) of each output element.
      at::Tensor lhs_w, rhs_w;
      if (lhs.defined() && detail::uses_lhs(op)) lhs_w = gather_rows_per_element(lhs, out, arg_src);
      if (rhs.defined() && detail::uses_rhs(op)) rhs_w = gather_rows_per_element(rhs, out, arg_edge);
      if (want_lhs) {
        at::Tensor c = grad;
        if (op == BinaryOp::kMul) c = grad * rhs_w;
        if (op == BinaryOp::kDiv) c = grad / rhs_w;
        grad_lhs = reduce_to(scatter_rows_per_element(c, arg_src, g.num_src()), lhs);
      }
      if (want_rhs) {
        at::Tensor c = grad;
        if (op == BinaryOp::kSub) c = -grad;
        if (op == BinaryOp::kMul) c = grad * lhs_w;
        if (op == BinaryOp::kDiv) c = -grad * lhs_w / (rhs_w * rhs_w);
        grad_rhs = reduce_to(scatter_rows_per_element(c, arg_edge, g.num_edges()), rhs);
      }
    }
    return {grad_lhs, grad_rhs};
  }
};

class GSddmmFunction : public torch::autograd::Function<GSddmmFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& indptr, const at::Tensor& indices,
                            const c10::optional<at::Tensor>& eids_opt, const at::Tensor& rev_indptr,
                            const at::Tensor& rev_indices, const c10::optional<at::Tensor>& rev_eids_opt,
                            std::string op, const at::Tensor& lhs, const at::Tensor& rhs,
                            std::string lhs_target, std::string rhs_target) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor eids = value_or_undefined(eids_opt), rev_eids = value_or_undefined(rev_eids_opt);
    const int64_t lhs_slot = 4 + eids.defined() + rev_eids.defined();
    ctx->saved_data["lhs_slot"] = lhs_slot;
    at::Tensor out = dispatch::gsddmm_forward(indptr, indices, opt(eids), op, lhs, rhs, lhs_target, rhs_target,
                                              rev_indptr.numel() - 1);
    save_graph(ctx, {indptr, indices, eids, rev_indptr, rev_indices, rev_eids});
    ctx->saved_data["op"] = op;
    ctx->saved_data["lt"] = lhs_target;
    ctx->saved_data["rt"] = rhs_target;
    ctx->save_for_backward({lhs, rhs});
    return out;
  }

  // Gradient for one operand X (target tx) given the other operand Y (target ty).
  // `scale` is the derivative's form: 0 none, 1 (+g), -1 (-g), 2 (g*Y), 3 (g/Y),
  // 4 (-g*X/Y^2, only for div's rhs: needs both).
  static at::Tensor operand_grad(const GraphArgs& g, const at::Tensor& grad, Target tx, Target ty,
                                 const at::Tensor& x, const at::Tensor& y, int form,
                                 const at::Tensor& lhs_for_div) {
    auto aggregate = [&](const at::Tensor& per_edge) -> at::Tensor {
      if (tx == Target::kEdge) return per_edge;
      if (tx == Target::kDst) return g.spmm("copy_rhs", "sum", at::Tensor(), per_edge);
      return g.reversed().spmm("copy_rhs", "sum", at::Tensor(), per_edge);
    };
    if (form == 1) return reduce_to(aggregate(grad), x);
    if (form == -1) return reduce_to(aggregate(-grad), x);
    if (form == 2 && tx != Target::kEdge && ty != Target::kEdge && tx != ty) {
      // Fused: X's gradient is a gspmm of Y (on the other end) times the edge gradient.
      const at::Tensor full = tx == Target::kSrc ? g.reversed().spmm("mul", "sum", y, grad)
                                                 : g.spmm("mul", "sum", y, grad);
      return reduce_to(full, x);
    }
    // General case: materialize per-edge operands (edge-sized; only the backward of rarer
    // target combinations takes this path).
    auto [src, dst] = g.edge_endpoints();
    auto at_edges = [&](const at::Tensor& t, Target tt) {
      if (tt == Target::kEdge) return t;
      return t.index_select(0, tt == Target::kSrc ? src : dst);
    };
    at::Tensor per_edge;
    if (form == 2) per_edge = grad * at_edges(y, ty);
    else if (form == 3) per_edge = grad / at_edges(y, ty);
    else {
      const at::Tensor xe = at_edges(x, tx);  // div's rhs: -g * l / r^2
      per_edge = -grad * lhs_for_div / (xe * xe);
    }
    return reduce_to(aggregate(per_edge), x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto [grad_lhs, grad_rhs] = operand_grads(ctx, load_graph(ctx), grads);
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), grad_lhs, grad_rhs, at::Tensor(), at::Tensor()};
  }

  // The gradients of lhs and rhs; shared with the graph-handle form (GSddmmGraphFunction).
  static std::pair<at::Tensor, at::Tensor> operand_grads(AutogradContext* ctx, const GraphArgs& g,
                                                         const variable_list& grads) {
    const BinaryOp op = detail::parse_sddmm_op(ctx->saved_data["op"].toStringRef());
    const Target lt = detail::parse_target(ctx->saved_data["lt"].toStringRef());
    const Target rt = detail::parse_target(ctx->saved_data["rt"].toStringRef());
    auto saved = ctx->get_saved_variables();
    const at::Tensor lhs = saved[0], rhs = saved[1];
    const at::Tensor grad = grads[0].contiguous();
    at::Tensor grad_lhs, grad_rhs;
    int lf = 0, rf = 0;
    switch (op) {
      case BinaryOp::kAdd: lf = 1; rf = 1; break;
      case BinaryOp::kSub: lf = 1; rf = -1; break;
      case BinaryOp::kMul:
      case BinaryOp::kDot: lf = 2; rf = 2; break;
      case BinaryOp::kDiv: lf = 3; rf = 4; break;
      case BinaryOp::kCopyLhs: lf = 1; break;
      case BinaryOp::kCopyRhs: rf = 1; break;
    }
    const int64_t lhs_slot = ctx->saved_data["lhs_slot"].toInt();
    if (lf != 0 && ctx->needs_input_grad(lhs_slot)) {
      grad_lhs = operand_grad(g, grad, lt, rt, lhs, rhs, lf, at::Tensor());
    }
    if (rf != 0 && ctx->needs_input_grad(lhs_slot + 1)) {
      at::Tensor lhs_edges;
      if (rf == 4) {  // -g * l / r^2 needs lhs per edge
        auto [src, dst] = g.edge_endpoints();
        lhs_edges = lt == Target::kEdge ? lhs : lhs.index_select(0, lt == Target::kSrc ? src : dst);
      }
      grad_rhs = operand_grad(g, grad, rt, lt, rhs, lhs, rf, lhs_edges);
    }
    return {grad_lhs, grad_rhs};
  }
};

// The graph-handle forms: the graph crosses as one object and its reverse view is asked
// for in backward only (src/ops/graph_handle.h).
GraphArgs graph_args(const GraphRef& handle) {
  const Graph& g = handle->graph();
  const CsrView& r = g.csr();  // cached in the graph: built once, on the first backward
  return {g.csc_indptr(), g.csc_indices(), at::Tensor(), r.indptr, r.indices, r.eids};
}

class GSpmmGraphFunction : public torch::autograd::Function<GSpmmGraphFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, GraphRef graph, std::string op, std::string reduce,
                            const c10::optional<at::Tensor>& lhs_opt, const c10::optional<at::Tensor>& rhs_opt) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const at::Tensor lhs = value_or_undefined(lhs_opt), rhs = value_or_undefined(rhs_opt);
    ctx->saved_data["lhs_slot"] = int64_t{0};  // the graph is not a tensor input
    ctx->saved_data["rhs_slot"] = int64_t{lhs.defined() ? 1 : 0};
    const Graph& g = graph->graph();
    const cpu::TrustedGraphArrays trusted;  // checked when the graph was built
    auto [out, arg_src, arg_edge] =
        dispatch::gspmm_forward(g.csc_indptr(), g.csc_indices(), c10::nullopt, op, reduce, lhs_opt, rhs_opt,
                                g.num_src());
    ctx->saved_data["graph"] = graph;
    ctx->saved_data["op"] = op;
    ctx->saved_data["reduce"] = reduce;
    ctx->save_for_backward({lhs, rhs, arg_src, arg_edge, out});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const GraphRef handle = ctx->saved_data["graph"].toCustomClass<GraphHandle>();
    if (scatters_to_sources(ctx, handle->graph(), grads[0])) {
      return {at::Tensor(), at::Tensor(), at::Tensor(), dispatch::gspmm_sum_to_sources_graph(handle, grads[0]),
              at::Tensor()};
    }
    const GraphArgs g = graph_args(handle);
    const cpu::TrustedGraphArrays trusted;  // the graph's arrays and its own reverse view
    const auto [grad_lhs, grad_rhs] = GSpmmFunction::operand_grads(ctx, g, grads);
    return {at::Tensor(), at::Tensor(), at::Tensor(), grad_lhs, grad_rhs};
  }

 private:
  // copy_lhs sum on CPU over a graph whose reverse view is not built yet and whose sources
  // are few against its destinations (a graph made for one call, as the common-neighbour
  // graph of a batch of pairs): its gradient is scattered along the CSC instead of building
  // that view (gspmm_scatter_kernel.cpp). The same bits either way.
  static bool scatters_to_sources(AutogradContext* ctx, const Graph& g, const at::Tensor& grad) {
    constexpr int64_t kFanOut = 4;
    if (ctx->saved_data["op"].toStringRef() != "copy_lhs" || ctx->saved_data["reduce"].toStringRef() != "sum") {
      return false;
    }
    const at::Tensor lhs = ctx->get_saved_variables()[0];
    return ctx->needs_input_grad(ctx->saved_data["lhs_slot"].toInt()) && grad.is_cpu() && lhs.defined() &&
           lhs.sizes().slice(1) == grad.sizes().slice(1) && g.num_dst() >= kFanOut * g.num_src() &&
           !g.has_csr_view();
  }
};

class GSddmmGraphFunction : public torch::autograd::Function<GSddmmGraphFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, GraphRef graph, std::string op, const at::Tensor& lhs,
                            const at::Tensor& rhs, std::string lhs_target, std::string rhs_target) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->saved_data["lhs_slot"] = int64_t{0};
    const Graph& g = graph->graph();
    const cpu::TrustedGraphArrays trusted;
    at::Tensor out = dispatch::gsddmm_forward(g.csc_indptr(), g.csc_indices(), c10::nullopt, op, lhs, rhs,
                                              lhs_target, rhs_target, g.num_src());
    ctx->saved_data["graph"] = graph;
    ctx->saved_data["op"] = op;
    ctx->saved_data["lt"] = lhs_target;
    ctx->saved_data["rt"] = rhs_target;
    ctx->save_for_backward({lhs, rhs});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const GraphArgs g = graph_args(ctx->saved_data["graph"].toCustomClass<GraphHandle>());
    const cpu::TrustedGraphArrays trusted;
    const auto [grad_lhs, grad_rhs] = GSddmmFunction::operand_grads(ctx, g, grads);
    return {at::Tensor(), at::Tensor(), grad_lhs, grad_rhs, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor gspmm_autograd(const at::Tensor& indptr, const at::Tensor& indices,
                          const c10::optional<at::Tensor>& eids, const at::Tensor& rev_indptr,
                          const at::Tensor& rev_indices, const c10::optional<at::Tensor>& rev_eids,
                          c10::string_view op, c10::string_view reduce,
                          const c10::optional<at::Tensor>& lhs, const c10::optional<at::Tensor>& rhs) {
  return GSpmmFunction::apply(indptr, indices, eids, rev_indptr, rev_indices, rev_eids, std::string(op),
                              std::string(reduce), lhs, rhs);
}

at::Tensor gsddmm_autograd(const at::Tensor& indptr, const at::Tensor& indices,
                           const c10::optional<at::Tensor>& eids, const at::Tensor& rev_indptr,
                           const at::Tensor& rev_indices, const c10::optional<at::Tensor>& rev_eids,
                           c10::string_view op, const at::Tensor& lhs, const at::Tensor& rhs,
                           c10::string_view lhs_target, c10::string_view rhs_target) {
  return GSddmmFunction::apply(indptr, indices, eids, rev_indptr, rev_indices, rev_eids, std::string(op),
                               lhs, rhs, std::string(lhs_target), std::string(rhs_target));
}

at::Tensor gspmm_graph_autograd(GraphRef graph, c10::string_view op, c10::string_view reduce,
                                const c10::optional<at::Tensor>& lhs, const c10::optional<at::Tensor>& rhs) {
  return GSpmmGraphFunction::apply(std::move(graph), std::string(op), std::string(reduce), lhs, rhs);
}

at::Tensor gsddmm_graph_autograd(GraphRef graph, c10::string_view op, const at::Tensor& lhs, const at::Tensor& rhs,
                                 c10::string_view lhs_target, c10::string_view rhs_target) {
  return GSddmmGraphFunction::apply(std::move(graph), std::string(op), lhs, rhs, std::string(lhs_target),
                                    std::string(rhs_target));
}

}  // namespace ripple::ops
