#!/usr/bin/env python3
"""PyG 2.8's LightGCN (torch_geometric.nn.models.LightGCN, PyPI torch) on the LightGCN/NGCF
text layout, the reference for Ripple's examples/gowalla_lightgcn.toml: embeddings of width
64, 3 layers, BPR with one uniform negative item per training interaction (PyG's example
draws it without rejecting the user's own items, which is faster than Ripple's rejection),
L2 1e-4 on the batch's layer-0 embeddings (PyG's recommendation_loss), batches of 2048,
Adam lr 0.001. The graph is edge_index (both directions), or with --sparse a torch.sparse CSR
adjacency (PyG's fast path without torch-sparse); LGConv normalizes either on every call.

Times `--batches` training steps (sampling + forward + backward + update; after 3 warm-up
steps) and scales the median step to a whole epoch, and times one full evaluation: all
users' scores against every item in chunks, training items masked, top 20, Recall@20 and
NDCG@20. Prints one JSON line.

  python bench/pyg_lightgcn.py --data data/gowalla --batches 20 --threads 2 [--sparse]
"""
import argparse, json, math, os, statistics, time

import torch
from torch_geometric.nn.models import LightGCN


def read(path):
    users, items = [], []
    with open(path) as f:
        for line in f:
            ids = [int(t) for t in line.split()]
            if len(ids) > 1:
                users += [ids[0]] * (len(ids) - 1)
                items += ids[1:]
    return torch.tensor(users), torch.tensor(items)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/gowalla")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sparse", action="store_true")
    ap.add_argument("--chunk", type=int, default=1024)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    tu, ti = read(os.path.join(a.data, "train.txt"))
    su, si = read(os.path.join(a.data, "test.txt"))
    num_users = int(max(tu.max(), su.max())) + 1
    num_items = int(max(ti.max(), si.max())) + 1
    n = num_users + num_items
    edge_index = torch.stack([torch.cat([tu, ti + num_users]), torch.cat([ti + num_users, tu])])
    model = LightGCN(n, 64, 3)
    graph = edge_index
    if a.sparse:
        # Unweighted: LGConv normalizes it (gcn_norm) on every call, as it does edge_index.
        graph = torch.sparse_coo_tensor(edge_index.flip(0), torch.ones(edge_index.size(1)), (n, n)).coalesce().to_sparse_csr()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    pairs = torch.stack([tu, ti + num_users])
    order = torch.randperm(pairs.size(1))

    def step(b):
        idx = order[b * a.batch_size:(b + 1) * a.batch_size]
        pos = pairs[:, idx]
        neg = torch.randint(num_users, n, (idx.numel(),))
        label_index = torch.cat([pos, torch.stack([pos[0], neg])], dim=1)
        opt.zero_grad()
        rank = model(graph, label_index)
        pos_rank, neg_rank = rank.chunk(2)
        loss = model.recommendation_loss(pos_rank, neg_rank, node_id=label_index.unique())
        loss.backward()
        opt.step()

    times = []
    for b in range(a.batches + 3):
        t = time.perf_counter()
        step(b)
        if b >= 3:
            times.append((time.perf_counter() - t) * 1000)
    step_ms = statistics.median(times)
    batches_per_epoch = math.ceil(pairs.size(1) / a.batch_size)

    # Test sets as a user-major CSR, for a vectorized evaluation as PyG's example does it.
    test_counts = torch.bincount(su, minlength=num_users)
    test_indptr = torch.cat([torch.zeros(1, dtype=torch.long), test_counts.cumsum(0)])
    test_items = si[torch.argsort(su, stable=True)]
    counts = torch.bincount(tu, minlength=num_users)
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    user_major = ti[torch.argsort(tu, stable=True)]
    discount = 1 / torch.log2(torch.arange(20) + 2.0)
    t = time.perf_counter()
    with torch.no_grad():
        emb = model.get_embedding(graph)
        user_emb, item_emb = emb[:num_users], emb[num_users:]
        users = torch.nonzero(test_counts > 0).squeeze(1)
        recall = ndcg = 0.0
        for chunk in users.split(a.chunk):
            scores = user_emb[chunk] @ item_emb.t()
            rows = torch.repeat_interleave(torch.arange(chunk.numel()), counts[chunk])
            cols = torch.cat([user_major[indptr[u]:indptr[u + 1]] for u in chunk.tolist()])
            scores[rows, cols] = float("-inf")
            top = scores.topk(20, dim=1).indices
            truth = torch.zeros_like(scores, dtype=torch.bool)
            rows = torch.repeat_interleave(torch.arange(chunk.numel()), test_counts[chunk])
            cols = torch.cat([test_items[test_indptr[u]:test_indptr[u + 1]] for u in chunk.tolist()])
            truth[rows, cols] = True
            hits = truth.gather(1, top).float()
            n_rel = test_counts[chunk].float()
            recall += (hits.sum(1) / n_rel).sum().item()
            ideal = (torch.arange(20).unsqueeze(0) < n_rel.unsqueeze(1)).float() @ discount
            ndcg += ((hits @ discount) / ideal).sum().item()
        recall /= users.numel()
        ndcg /= users.numel()
    eval_ms = (time.perf_counter() - t) * 1000
    print(json.dumps({"lib": "pyg-sparse" if a.sparse else "pyg", "step_ms_median": step_ms,
                      "epoch_ms_estimate": step_ms * batches_per_epoch, "batches_per_epoch": batches_per_epoch,
                      "eval_ms": eval_ms, "recall@20": recall, "ndcg@20": ndcg,
                      "threads": a.threads}))


if __name__ == "__main__":
    main()
