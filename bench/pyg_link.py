#!/usr/bin/env python3
"""OGB's ogbl-ddi GraphSAGE link-prediction epoch in PyG (PyPI torch), the reference Ripple's
examples/ddi_sage.toml follows: learned embeddings (256), two SAGEConv layers (mean, hidden
256, ReLU and dropout 0.5 between), a 3-layer MLP predictor on the Hadamard product, batches
of 65,536 positive edges each with one uniform negative, the encoder run on the whole graph
per batch, BCE loss, gradient clipping at 1, Adam lr 0.005.

Prints one JSON line: the median training-epoch time (after one warm-up epoch) and the
median full-evaluation time (embeddings once, then every valid/test pair scored).

  python bench/pyg_link.py --data data/ogbl-ddi --epochs 3 --threads 2
"""
import argparse, gzip, json, os, statistics, time

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.nn import SAGEConv


def pairs(path):
    with gzip.open(path, "rt") as f:
        return torch.from_numpy(np.loadtxt(f, delimiter=",", dtype=np.int64).reshape(-1, 2))


class Encoder(torch.nn.Module):
    def __init__(self, hidden, dropout):
        super().__init__()
        self.convs = torch.nn.ModuleList([SAGEConv(hidden, hidden), SAGEConv(hidden, hidden)])
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.dropout(F.relu(self.convs[0](x, adj)), p=self.dropout, training=self.training)
        return self.convs[1](x, adj)


class Predictor(torch.nn.Module):
    def __init__(self, hidden, dropout):
        super().__init__()
        self.lins = torch.nn.ModuleList([torch.nn.Linear(hidden, hidden), torch.nn.Linear(hidden, hidden),
                                         torch.nn.Linear(hidden, 1)])
        self.dropout = dropout

    def forward(self, a, b):
        x = a * b
        for lin in self.lins[:-1]:
            x = F.dropout(F.relu(lin(x)), p=self.dropout, training=self.training)
        return self.lins[-1](x).squeeze(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/ogbl-ddi")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=65536)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--sparse", action="store_true", help="pass the graph as a torch.sparse CSR adjacency")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    train = pairs(os.path.join(a.data, "raw/edge.csv.gz"))
    n = int(train.max()) + 1
    split = os.path.join(a.data, "split/target")
    evals = [pairs(os.path.join(split, f)) for f in
             ("valid_edge.csv.gz", "valid_edge_neg.csv.gz", "test_edge.csv.gz", "test_edge_neg.csv.gz")]
    edge_index = torch.cat([train.t(), train.t().flip(0)], 1)
    adj = edge_index
    if a.sparse:  # adj_t: rows are destinations, as PyG's SparseTensor convention
        adj = torch.sparse_coo_tensor(edge_index.flip(0), torch.ones(edge_index.size(1)), (n, n)).coalesce().to_sparse_csr()
    emb = torch.nn.Embedding(n, a.hidden)
    torch.nn.init.xavier_uniform_(emb.weight)
    model, predictor = Encoder(a.hidden, 0.5), Predictor(a.hidden, 0.5)
    params = list(emb.parameters()) + list(model.parameters()) + list(predictor.parameters())
    opt = torch.optim.Adam(params, lr=0.005)

    def epoch():
        model.train(); predictor.train()
        for perm in torch.randperm(train.size(0)).split(a.batch):
            opt.zero_grad()
            h = model(emb.weight, adj)
            e = train[perm].t()
            pos = predictor(h[e[0]], h[e[1]])
            neg_e = torch.randint(0, n, e.size(), dtype=torch.long)
            neg = predictor(h[neg_e[0]], h[neg_e[1]])
            loss = F.softplus(-pos).mean() + F.softplus(neg).mean()
            loss.backward()
            for group in (emb.parameters(), model.parameters(), predictor.parameters()):
                torch.nn.utils.clip_grad_norm_(group, 1.0)
            opt.step()

    @torch.no_grad()
    def evaluate():
        model.eval(); predictor.eval()
        h = model(emb.weight, adj)
        for p in evals:
            torch.cat([predictor(h[c[:, 0]], h[c[:, 1]]) for c in p.split(65536)])

    train_ms, eval_ms = [], []
    for i in range(a.epochs + 1):
        t0 = time.perf_counter(); epoch(); t1 = time.perf_counter(); evaluate(); t2 = time.perf_counter()
        if i > 0:
            train_ms.append(1000 * (t1 - t0)); eval_ms.append(1000 * (t2 - t1))
    print(json.dumps({"lib": "pyg" + ("-sparse" if a.sparse else ""), "epoch_ms_median": statistics.median(train_ms),
                      "eval_ms_median": statistics.median(eval_ms), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
