"""PyG's NeighborLoader and mini-batch GraphSAGE on a Ripple native dataset directory.

The yardstick for `ripple bench --sampler` (see bench/sampler_side_by_side.sh): it reads
the very arrays Ripple maps (header.json + raw little-endian .bin files), so both sides
sample from the same graph, seeds and features. PyG runs from the venv that
../shared/tools/pyg-baseline/setup.sh builds; it is a measuring stick, never a dependency.

Two measurements, as Ripple reports them:
  1. sampling + feature/label gathering over the training seeds (--sample-batches of
     them, 0: all): seeds_per_second;
  2. mini-batch GraphSAGE training (sampling + forward + loss + backward + Adam step):
     epoch_ms over --train-batches batches (0: the whole epoch), and the whole-epoch
     figure extrapolated from the measured batches when fewer were run.

Features stored as float16 are widened to float32 once at load time (PyG's layers want
float32; Ripple widens per gathered row instead). The PyG model runs every layer on the
whole sampled subgraph, PyG's default usage.

Prints one JSON object.
"""

import argparse
import itertools
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

_DTYPES = {"int32": np.int32, "int64": np.int64, "float32": np.float32, "float16": np.float16}


def load_native(root, split=None):
    """Returns (edge_index [2,E] int64, x float32 [N,F], y int64 [N], train int64) of a native dataset."""
    with open(os.path.join(root, "header.json")) as f:
        header = json.load(f)
    arrays = header["arrays"]

    def array(name):
        spec = arrays[name]
        data = np.fromfile(os.path.join(root, spec["file"]), dtype=_DTYPES[spec["dtype"]])
        return data.reshape(spec["shape"])

    indptr = array("csc_indptr").astype(np.int64)
    src = array("csc_indices").astype(np.int64)
    dst = np.repeat(np.arange(indptr.size - 1, dtype=np.int64), np.diff(indptr))
    x = array("features").astype(np.float32)
    y = array("labels").astype(np.int64)
    split = split or header["splits"][0]
    train = array(f"split/{split}/train").astype(np.int64)
    return np.stack([src, dst]), x, y, train, header


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="Ripple native dataset directory")
    p.add_argument("--pyg-tools", default=os.path.join(os.path.dirname(__file__), "../../shared/tools/pyg-baseline"))
    p.add_argument("--fanouts", default="15,10,5")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--num-workers", type=int, default=0, help="NeighborLoader worker processes")
    p.add_argument("--sample-batches", type=int, default=0, help="batches in the sampling pass (0: a whole epoch)")
    p.add_argument("--train-batches", type=int, default=0, help="training batches to time (0: a whole epoch)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    sys.path.insert(0, os.path.abspath(args.pyg_tools))
    import common  # noqa: E402  (shared PyG tools: thread set-up, RSS)
    import models  # noqa: E402
    from torch_geometric.data import Data
    from torch_geometric.loader import NeighborLoader

    common.setup_threads(args.threads)
    fanouts = [int(v) for v in args.fanouts.split(",")]
    t = time.perf_counter()
    ei, x, y, train, header = load_native(args.dataset)
    data = Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(ei), y=torch.from_numpy(y),
                num_nodes=header["num_nodes"])
    load_s = time.perf_counter() - t
    del ei
    torch.manual_seed(args.seed)
    seeds = torch.from_numpy(train)
    batches = (seeds.numel() + args.batch_size - 1) // args.batch_size

    def loader():
        return NeighborLoader(data, num_neighbors=fanouts, batch_size=args.batch_size, input_nodes=seeds,
                              shuffle=True, num_workers=args.num_workers)

    # 1. sampling + gathering over the training seeds
    next(iter(loader()))  # the CSC conversion happens lazily at the first batch: not timed
    sampled = batches if args.sample_batches <= 0 else min(args.sample_batches, batches)
    t = time.perf_counter()
    rows, sampled_seeds = 0, 0
    for b in itertools.islice(loader(), sampled):
        rows += b.num_nodes
        sampled_seeds += b.batch_size
    pass_s = time.perf_counter() - t

    # 2. training
    model = models.SAGE(x.shape[1], args.hidden, header["num_classes"], len(fanouts), args.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    timed = batches if args.train_batches <= 0 else min(args.train_batches, batches)
    t = time.perf_counter()
    loss_sum = 0.0
    for b in itertools.islice(loader(), timed):
        opt.zero_grad()
        out = model(b.x, b.edge_index)[:b.batch_size]
        loss = F.cross_entropy(out, b.y[:b.batch_size])
        loss.backward()
        opt.step()
        loss_sum += float(loss)
    train_s = time.perf_counter() - t
    print(json.dumps(dict(
        mode="pyg-sampler", dataset=os.path.basename(os.path.normpath(args.dataset)), nodes=header["num_nodes"],
        edges=header["num_edges"], fanouts=fanouts, batch_size=args.batch_size, num_workers=args.num_workers,
        threads=args.threads, hidden=args.hidden, seeds=int(seeds.numel()), batches=batches, load_s=round(load_s, 2),
        sample_batches=sampled, seeds_per_second=sampled_seeds / pass_s, pass_ms=1e3 * pass_s,
        input_nodes_per_batch=rows / sampled,
        train_batches=timed, train_ms=1e3 * train_s, epoch_ms=1e3 * train_s * batches / timed,
        epoch_extrapolated=timed < batches, mean_loss=loss_sum / timed, peak_rss_mb=common.peak_rss_mb())))


if __name__ == "__main__":
    main()
