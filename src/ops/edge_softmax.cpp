// ripple::edge_softmax, whole in one place: its schemas, its autograd and its Graph entry
// point (its CPU kernels and their registration are in cpu/edge_softmax_kernel.cpp). A new
// operator follows the same pattern and edits no shared file besides include/ripple/ops.h:
// TORCH_LIBRARY_FRAGMENT adds schemas to the ripple:: library from any file, and each
// TORCH_LIBRARY_IMPL adds kernels for one dispatch key.
//
//   edge_softmax_forward(indptr, eids?, scores)        the raw kernel
//   edge_softmax_backward(indptr, eids?, out, grad)     its gradient: out * (grad - sum(out * grad))
//   edge_softmax(indptr, eids?, scores)                 differentiable (Autograd below; CPU: forward)
#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <optional>

#include "ops/cpu/graph_check.h"
#include "ops/dispatch.h"
#include "ripple/ops.h"

namespace ripple::ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using dispatch::OptTensor;

OptTensor optional_of(const at::Tensor& t) { return t.defined() ? OptTensor(t) : c10::nullopt; }

using Softmax = at::Tensor(const at::Tensor&, const OptTensor&, const at::Tensor&);
using SoftmaxBackward = at::Tensor(const at::Tensor&, const OptTensor&, const at::Tensor&, const at::Tensor&);

at::Tensor call_forward(const at::Tensor& indptr, const OptTensor& eids, const at::Tensor& x) {
  static auto op = dispatch::handle<Softmax>("ripple::edge_softmax_forward");
  return op.call(indptr, eids, x);
}

at::Tensor call_backward(const at::Tensor& indptr, const OptTensor& eids, const at::Tensor& y,
                         const at::Tensor& grad) {
  static auto op = dispatch::handle<SoftmaxBackward>("ripple::edge_softmax_backward");
  return op.call(indptr, eids, y, grad);
}

at::Tensor call_differentiable(const at::Tensor& indptr, const OptTensor& eids, const at::Tensor& x) {
  static auto op = dispatch::handle<Softmax>("ripple::edge_softmax");
  return op.call(indptr, eids, x);
}

class EdgeSoftmaxFunction : public torch::autograd::Function<EdgeSoftmaxFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& indptr, const OptTensor& eids_opt,
                            const at::Tensor& x) {
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor y = call_forward(indptr, eids_opt, x);
    ctx->saved_data["indptr"] = indptr;
    ctx->saved_data["eids"] = eids_opt.has_value() ? *eids_opt : at::Tensor();
    // Under a Graph's trust mark (edge_softmax(Graph) below) the backward keeps it.
    ctx->saved_data["trusted"] = cpu::graph_arrays_trusted();
    ctx->save_for_backward({y});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const at::Tensor indptr = ctx->saved_data["indptr"].toTensor();
    const c10::IValue& e = ctx->saved_data["eids"];
    const at::Tensor eids = e.isTensor() ? e.toTensor() : at::Tensor();
    const at::Tensor y = ctx->get_saved_variables()[0];
    std::optional<cpu::TrustedGraphArrays> trusted;
    if (ctx->saved_data["trusted"].toBool()) trusted.emplace();
    return {at::Tensor(), at::Tensor(), call_backward(indptr, optional_of(eids), y, grads[0].contiguous())};
  }
};

at::Tensor edge_softmax_autograd(const at::Tensor& indptr, const OptTensor& eids, const at::Tensor& x) {
  return EdgeSoftmaxFunction::apply(indptr, eids, x);
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(ripple, m) {
  m.def("edge_softmax_forward(Tensor indptr, Tensor? eids, Tensor scores) -> Tensor");
  m.def("edge_softmax_backward(Tensor indptr, Tensor? eids, Tensor out, Tensor grad) -> Tensor");
  m.def("edge_softmax(Tensor indptr, Tensor? eids, Tensor scores) -> Tensor");
}

TORCH_LIBRARY_IMPL(ripple, Autograd, m) { m.impl("edge_softmax", edge_softmax_autograd); }

// A Graph's indptr was checked when the graph was built: the kernels (and the backward, which
// carries the mark) check only its shape, not its values, on each call.
at::Tensor edge_softmax(const Graph& graph, const at::Tensor& scores) {
  const cpu::TrustedGraphArrays trusted;
  return call_differentiable(graph.csc_indptr(), c10::nullopt, scores);
}

}  // namespace ripple::ops
