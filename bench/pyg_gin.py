"""PyG side of the GIN graph-classification epoch comparison (bench/gin_side_by_side.sh).

The same model as Ripple's `gin` graph model (GIN paper: layers - 1 GINConv with a
Linear-BatchNorm-ReLU-Linear MLP, then BatchNorm and ReLU; every layer, the input included,
sum-pooled and mapped to class scores by its own linear layer with dropout, scores summed),
trained with Adam on the first 90 % of a TU dataset in batches of 32 with PyG's DataLoader,
then evaluated on the remaining 10 %: one epoch as Ripple's cross-validation runs it.
Prints one JSON line with the median epoch time. Run with a PyPI venv holding torch and
torch_geometric (PyG 2.8):

  python bench/pyg_gin.py --data data/PROTEINS --epochs 20 --threads 2
"""
import argparse, json, os, shutil, statistics, sys, tempfile, time

import torch
import torch.nn.functional as F


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="TU folder (NAME_A.txt ...)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    import torch_geometric
    from torch_geometric.datasets import TUDataset
    from torch_geometric.loader import DataLoader
    from torch_geometric.nn import GINConv, global_add_pool

    name = [f[: -len("_graph_indicator.txt")] for f in os.listdir(a.data) if f.endswith("_graph_indicator.txt")][0]
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, name, "raw"))
    for f in os.listdir(a.data):
        if f.startswith(name + "_") and f.endswith(".txt"):
            shutil.copy(os.path.join(a.data, f), os.path.join(root, name, "raw", f))
    ds = TUDataset(root, name, use_node_attr=True)  # node labels one-hot + attributes, as Ripple
    n_train = int(0.9 * len(ds))
    perm = torch.randperm(len(ds))
    train_ds, test_ds = ds[perm[:n_train]], ds[perm[n_train:]]

    class GIN(torch.nn.Module):
        def __init__(self, fin, hid, out, layers):
            super().__init__()
            self.convs, self.norms, self.heads = torch.nn.ModuleList(), torch.nn.ModuleList(), torch.nn.ModuleList()
            self.heads.append(torch.nn.Linear(fin, out))
            d = fin
            for _ in range(layers - 1):
                mlp = torch.nn.Sequential(torch.nn.Linear(d, hid), torch.nn.BatchNorm1d(hid), torch.nn.ReLU(),
                                          torch.nn.Linear(hid, hid))
                self.convs.append(GINConv(mlp, train_eps=False))
                self.norms.append(torch.nn.BatchNorm1d(hid))
                self.heads.append(torch.nn.Linear(hid, out))
                d = hid

        def forward(self, x, edge_index, batch):
            score = F.dropout(self.heads[0](global_add_pool(x, batch)), 0.5, self.training)
            for conv, norm, head in zip(self.convs, self.norms, self.heads[1:]):
                x = F.relu(norm(conv(x, edge_index)))
                score = score + F.dropout(head(global_add_pool(x, batch)), 0.5, self.training)
            return score

    model = GIN(ds.num_features, a.hidden, ds.num_classes, a.layers)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    train_loader = DataLoader(train_ds, batch_size=a.batch_size, shuffle=True)
    test_loader = DataLoader(test_ds, batch_size=512)
    times, acc = [], 0.0
    for epoch in range(a.warmup + a.epochs):
        t0 = time.perf_counter()
        model.train()
        for b in train_loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(b.x, b.edge_index, b.batch), b.y)
            loss.backward()
            opt.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for b in test_loader:
                correct += int((model(b.x, b.edge_index, b.batch).argmax(1) == b.y).sum())
        acc = correct / len(test_ds)
        if epoch >= a.warmup:
            times.append(1000 * (time.perf_counter() - t0))
    shutil.rmtree(root)
    print(json.dumps({"lib": "pyg", "pyg": torch_geometric.__version__, "torch": torch.__version__,
                      "dataset": name, "graphs_train": len(train_ds), "graphs_test": len(test_ds),
                      "epoch_ms_median": statistics.median(times), "epochs": a.epochs, "threads": a.threads,
                      "last_test_acc": acc}))


if __name__ == "__main__":
    sys.exit(main())
