#!/usr/bin/env python3
"""Loads libripple.so into Debian's PyTorch and checks torch.ops.ripple.* against plain
PyTorch references, forward and backward. Run by ctest as `python_ops`:
    /usr/bin/python3 tests/python/test_ops.py build/libripple.so
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import sys

import torch

torch.ops.load_library(sys.argv[1])
torch.manual_seed(0)

N, H, D = 9, 4, 5
src = torch.tensor([0, 1, 1, 2, 3, 3, 4, 6, 7, 8, 8, 2, 0])
dst = torch.tensor([1, 0, 2, 2, 2, 4, 3, 5, 5, 5, 0, 7, 0])
# CSC: sort edges by (dst, src); reverse view: sort by (src, dst) with CSC positions.
order = torch.argsort(dst * N + src)
src, dst = src[order], dst[order]
E = src.numel()
indptr = torch.zeros(N + 1, dtype=torch.long)
indptr[1:] = torch.cumsum(torch.bincount(dst, minlength=N), 0)
rev_order = torch.argsort(src * N + dst)
rev_indptr = torch.zeros(N + 1, dtype=torch.long)
rev_indptr[1:] = torch.cumsum(torch.bincount(src, minlength=N), 0)
rev_indices, rev_eids = dst[rev_order], rev_order
graph = (indptr, src, None, rev_indptr, rev_indices, rev_eids)

passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAILED:", name)


x = torch.randn(N, H, D, dtype=torch.double, requires_grad=True)
w = (torch.rand(E, H, 1, dtype=torch.double) + 0.5).requires_grad_()

# gspmm mul/sum against index_select + index_add.
out = torch.ops.ripple.gspmm(*graph, "mul", "sum", x, w)
ref = torch.zeros(N, H, D, dtype=torch.double).index_add(0, dst, x[src] * w)
check("gspmm forward", torch.allclose(out, ref))
g = torch.randn_like(out)
gx, gw = torch.autograd.grad((out * g).sum(), (x, w))
rx, rw = torch.autograd.grad((ref * g).sum(), (x, w))
check("gspmm backward lhs", torch.allclose(gx, rx))
check("gspmm backward rhs", torch.allclose(gw, rw))

# gspmm copy_lhs/max against a per-node loop.
out = torch.ops.ripple.gspmm(*graph, "copy_lhs", "max", x, None)
ref = torch.stack([x[src[dst == v]].max(0).values if (dst == v).any() else torch.zeros(H, D, dtype=torch.double)
                   for v in range(N)])
check("gspmm max", torch.allclose(out, ref))

# gsddmm dot between destination and source rows.
q = torch.randn(N, H, D, dtype=torch.double, requires_grad=True)
out = torch.ops.ripple.gsddmm(*graph, "dot", q, x, "dst", "src")
ref = (q[dst] * x[src]).sum(-1, keepdim=True)
check("gsddmm dot forward", torch.allclose(out, ref))
check("gsddmm dot backward", torch.allclose(torch.autograd.grad(out.sum(), q)[0], torch.autograd.grad(ref.sum(), q)[0]))

# edge_softmax against a per-destination softmax.
s = torch.randn(E, H, dtype=torch.double, requires_grad=True)
out = torch.ops.ripple.edge_softmax(indptr, None, s)
ref = torch.cat([torch.softmax(s[indptr[v]:indptr[v + 1]], 0) for v in range(N)])
check("edge_softmax forward", torch.allclose(out, ref))
g = torch.randn_like(out)
check("edge_softmax backward",
      torch.allclose(torch.autograd.grad((out * g).sum(), s)[0], torch.autograd.grad((ref * g).sum(), s)[0]))
check("gradcheck gspmm", torch.autograd.gradcheck(
    lambda a, b: torch.ops.ripple.gspmm(*graph, "div", "mean", a, b), (x, w)))



def raises(name, fn, words):
    """The call must raise a RuntimeError whose message contains every one of `words`."""
    try:
        fn()
    except RuntimeError as e:
        missing = [w for w in words if w not in str(e)]
        check(name, not missing)
        if missing:
            print("  message lacks", missing, ":", str(e).splitlines()[0])
        return
    check(name + " (no error raised)", False)


# Regression: a src-targeted gsddmm operand with too few rows was read past its end.
raises("gsddmm short src operand", lambda: torch.ops.ripple.gsddmm(*graph, "dot", q, x[:3], "dst", "src"),
       ["rhs", "source operand", f"{N} rows"])
bad_src = src.clone()
bad_src[4] = N + 100
raises("gsddmm index past the sources",
       lambda: torch.ops.ripple.gsddmm(indptr, bad_src, None, *graph[3:], "dot", q, x, "dst", "src"),
       ["indices[4]", str(N + 100)])
raises("gspmm index past the sources",
       lambda: torch.ops.ripple.gspmm(indptr, bad_src, None, *graph[3:], "copy_lhs", "sum", x, None),
       ["indices[4]"])
raises("edge_softmax eids past the edges",
       lambda: torch.ops.ripple.edge_softmax(indptr, torch.full((E,), E, dtype=torch.long), s), ["eids[0]"])
with torch.no_grad():
    raises("inference gsddmm short dst operand",
           lambda: torch.ops.ripple.gsddmm(*graph, "add", q[:2], x, "dst", "src"), ["lhs", "destination operand"])

# The graph as one object: torch.classes.ripple.Graph and the *_graph ops give what the
# six-tensor forms give, forward and backward; bad arrays are refused at construction.
handle = torch.classes.ripple.Graph(indptr, src, N)
check("graph handle sizes", (handle.num_src(), handle.num_dst(), handle.num_edges()) == (N, N, E))
x2 = x.detach().clone().requires_grad_()
w2 = w.detach().clone().requires_grad_()
out = torch.ops.ripple.gspmm_graph(handle, "mul", "sum", x2, w2)
ref = torch.ops.ripple.gspmm(*graph, "mul", "sum", x, w)
check("gspmm_graph forward", torch.allclose(out, ref))
g = torch.randn_like(out)
hx, hw = torch.autograd.grad((out * g).sum(), (x2, w2))
rx, rw = torch.autograd.grad((ref * g).sum(), (x, w))
check("gspmm_graph backward", torch.allclose(hx, rx) and torch.allclose(hw, rw))
out = torch.ops.ripple.gsddmm_graph(handle, "dot", x2, x2, "dst", "src")
ref = torch.ops.ripple.gsddmm(*graph, "dot", x, x, "dst", "src")
check("gsddmm_graph forward", torch.allclose(out, ref))
hx, = torch.autograd.grad(out.sum(), (x2,))
rx, = torch.autograd.grad(ref.sum(), (x,))
check("gsddmm_graph backward", torch.allclose(hx, rx))
raises("graph handle with an index past the sources", lambda: torch.classes.ripple.Graph(indptr, bad_src, N),
       ["source"])

# common_neighbors: the intersection of two CSC rows per pair, against Python sets.
rows = [set(src[indptr[v]:indptr[v + 1]].tolist()) for v in range(N)]
pairs = torch.tensor([[5, 0, 2, 2, 8], [0, 2, 0, 7, 8]])
cn_ptr, cn_idx = torch.ops.ripple.common_neighbors(indptr, src, pairs)
got = [cn_idx[cn_ptr[i]:cn_ptr[i + 1]].tolist() for i in range(pairs.size(1))]
want = [sorted(rows[u] & rows[v]) for u, v in pairs.t().tolist()]
check("common_neighbors", got == want and any(want))
raises("common_neighbors pair outside the graph",
       lambda: torch.ops.ripple.common_neighbors(indptr, src, torch.tensor([[0], [N]])), ["pair 0"])
# The same on a graph handle (arrays checked once, when it was made), and its refusals.
g_ptr, g_idx = torch.ops.ripple.common_neighbors_graph(torch.classes.ripple.Graph(indptr, src, N), pairs)
check("common_neighbors_graph", torch.equal(g_ptr, cn_ptr) and torch.equal(g_idx, cn_idx))
raises("common_neighbors_graph pair outside the graph",
       lambda: torch.ops.ripple.common_neighbors_graph(torch.classes.ripple.Graph(indptr, src, N),
                                                       torch.tensor([[0], [N]])), ["pair 0"])
unsorted = src.clone()
row = next(v for v in range(N) if indptr[v + 1] - indptr[v] >= 2)
unsorted[indptr[row]], unsorted[indptr[row] + 1] = src[indptr[row] + 1], src[indptr[row]]
raises("common_neighbors_graph unsorted row",
       lambda: torch.ops.ripple.common_neighbors_graph(torch.classes.ripple.Graph(indptr, unsorted, N), pairs),
       [f"row {row} of the graph is not strictly ascending"])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
