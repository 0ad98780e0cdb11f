#!/usr/bin/env python3
"""The product a LightGCN step repeats, measured alone on Gowalla's user-item graph (70,839
nodes, 1.62M directed edges, 64 floats a node): Ripple's gspmm through the graph handle
(int64 and int32 indices, and after a degree-descending relabelling) against torch.sparse.mm
on the same CSR, in one process (Debian's python3-torch, the LibTorch Ripple links). Also
the share of nodes and edges a batch of 2048 interactions reaches in one hop, which bounds
what skipping inactive rows in backward could save. Prints medians of 10 runs.

  /usr/bin/python3 bench/gowalla_spmm.py build/libripple.so [data/gowalla]
"""
import statistics, sys, time

import torch

torch.ops.load_library(sys.argv[1])
data = sys.argv[2] if len(sys.argv) > 2 else "data/gowalla"
torch.set_num_threads(2)
torch.manual_seed(0)


def read(path):
    users, items = [], []
    for line in open(path):
        ids = [int(t) for t in line.split()]
        users += [ids[0]] * (len(ids) - 1)
        items += ids[1:]
    return torch.tensor(users), torch.tensor(items)


def median_ms(f):
    f()
    times = []
    for _ in range(10):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def csc(src, dst, n):
    order = torch.argsort(dst * n + src)
    src, dst = src[order], dst[order]
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.bincount(dst, minlength=n).cumsum(0)])
    return indptr, src, dst


tu, ti = read(f"{data}/train.txt")
users, items = int(tu.max()) + 1, int(ti.max()) + 1
n = users + items
src, dst = torch.cat([tu, ti + users]), torch.cat([ti + users, tu])
deg = torch.bincount(dst, minlength=n).float()
indptr, s, d = csc(src, dst, n)
w = (deg[s].rsqrt() * deg[d].rsqrt()).unsqueeze(1)
x = torch.randn(n, 64)
g64 = torch.classes.ripple.Graph(indptr, s, n)
g32 = torch.classes.ripple.Graph(indptr.int(), s.int(), n)
a = torch.sparse_csr_tensor(indptr, s, w.squeeze(1), (n, n))
new_id = torch.empty(n, dtype=torch.long)
new_id[torch.argsort(-deg, stable=True)] = torch.arange(n)
rp, rs, rd = csc(new_id[src], new_id[dst], n)
rdeg = torch.bincount(rd, minlength=n).float()
gr = torch.classes.ripple.Graph(rp, rs, n)
wr = (rdeg[rs].rsqrt() * rdeg[rd].rsqrt()).unsqueeze(1)
print(f"ripple gspmm int64: {median_ms(lambda: torch.ops.ripple.gspmm_graph(g64, 'mul', 'sum', x, w)):.1f} ms")
print(f"ripple gspmm int32: {median_ms(lambda: torch.ops.ripple.gspmm_graph(g32, 'mul', 'sum', x, w)):.1f} ms")
print(f"ripple gspmm degree-sorted: {median_ms(lambda: torch.ops.ripple.gspmm_graph(gr, 'mul', 'sum', x, wr)):.1f} ms")
print(f"torch.sparse.mm CSR: {median_ms(lambda: torch.sparse.mm(a, x)):.1f} ms")

for trial in range(3):
    idx = torch.randint(0, tu.numel(), (2048,))
    rows = torch.unique(torch.cat([tu[idx], ti[idx] + users, torch.randint(0, items, (2048,)) + users]))
    active = torch.zeros(n, dtype=torch.bool)
    active[rows] = True
    reached = active.clone()
    reached[dst[active[src]]] = True
    print(f"batch {trial}: {rows.numel()} rows; one hop reaches {reached.float().mean():.2f} of the nodes, "
          f"{reached[src].float().mean():.2f} of the edges")
