#!/usr/bin/env python3
"""Renders the JSON written by bench/run.sh as the markdown tables of docs/performance.md.

Usage: python3 bench/report.py RESULTS_DIR > report.md
Medians over the repetitions (Google Benchmark's *_median aggregates) are used throughout.
"""
import json
import os
import sys


def load(results, name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def medians(doc):
    """{benchmark run name: median row}, in run order."""
    out = {}
    for b in doc["benchmarks"] if doc else []:
        if b.get("aggregate_name") == "median":
            out[b["run_name"]] = b
    return out


def ms(b):
    unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
    return b["real_time"] * unit


def gbps(b):
    return b.get("bytes_per_second", 0) / 1e9


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def kernel_rows(m):
    """Rows with GB/s as a fraction of the median BM_CopyBandwidth of the same run (the
    in-process start-up probe behind the copy_frac counter is a single, noisier sample)."""
    copy = m.get("BM_CopyBandwidth/real_time")
    rows = []
    for name, b in m.items():
        if "bytes_per_second" not in b:
            continue
        rows.append([name.replace("/real_time", ""), b.get("label", ""), f"{ms(b):.2f}", f"{gbps(b):.2f}",
                     f"{gbps(b) / gbps(copy) * 100:.0f}%" if copy and name != "BM_CopyBandwidth/real_time" else "",
                     f"{b['peak_MB']:.0f}" if "peak_MB" in b else ""])
    return rows


def ratio_rows(m, pairs):
    rows = []
    for fused, unfused, what in pairs:
        a, b = m.get(fused), m.get(unfused)
        if a and b:
            mem = ""
            if "peak_MB" in a and "peak_MB" in b and a["peak_MB"] > 0:
                mem = f"{a['peak_MB']:.0f} / {b['peak_MB']:.0f} MB ({a['peak_MB'] / b['peak_MB']:.2f})"
            rows.append([what, f"{ms(a):.1f}", f"{ms(b):.1f}", f"{ms(b) / ms(a):.1f}x", mem])
    return rows


def main():
    results = sys.argv[1]
    small_k, small_l = load(results, "small_kernels"), load(results, "small_layers")
    big2, big1, big_l = load(results, "large_sum_2threads"), load(results, "large_sum_1thread"), load(results, "large_layers")
    out = []
    ctx = (small_k or big2 or {}).get("context", {})
    caches = ", ".join(f"L{c['level']} {c['size'] // 1024} KiB x{c['num_sharing'] or 1}" for c in ctx.get("caches", [])
                       if c["type"] != "Instruction")
    out.append(f"Machine: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
               f"{caches}; ripple threads {ctx.get('ripple_threads', '?')}; run {ctx.get('date', '?')}. "
               f"'of copy' is GB/s over the median BM_CopyBandwidth of the same run.\n")

    m = medians(small_k)
    out.append("\n## Kernels, 100k nodes / 2M edges (median of repetitions)\n\n")
    out.append(table(["benchmark", "graph", "ms", "GB/s (no reuse)", "of copy", "peak MB"], kernel_rows(m)))
    pairs = []
    for g in (0, 1):
        for f in (16, 64, 128, 256):
            pairs.append((f"BM_GSpmmMulEdgeWeight/graph:{g}/F:{f}/real_time", f"BM_UnfusedMulEdgeWeight/graph:{g}/F:{f}/real_time",
                          f"mul-by-edge-weight sum, {'uniform' if g == 0 else 'rmat'}, F={f}"))
    out.append("\nFused gspmm against index_select + index_add_ (same process):\n\n")
    out.append(table(["what", "fused ms", "unfused ms", "speed-up", "peak memory fused / unfused"], ratio_rows(m, pairs)))

    dense = []
    for name, b in m.items():
        if name.startswith("BM_Dropout"):
            dense.append([name.replace("/real_time", ""), f"{ms(b):.2f}", f"{1e9 / b['items_per_second']:.2f} ns/element"])
        elif name.startswith("BM_Linear"):
            dense.append([name.replace("/real_time", ""), f"{ms(b):.2f}",
                          f"{b['GFLOPs']:.1f} GFLOP/s" if "GFLOPs" in b else ""])
    if dense:
        out.append("\nDense side of a step: dropout (shape 0: 2708x1433, 1: 100000x128) and linear transforms "
                   "(shape 0: 2708x1433 by 1433x16, 1: 100k x128 by 128x128, 2: 1M x128 by 128x256):\n\n")
        out.append(table(["benchmark", "ms", "rate"], dense))

    ml = medians(small_l)
    lpairs = []
    for g, gname in ((0, "uniform"), (1, "rmat")):
        for f in (64, 128):
            lpairs.append((f"BM_GCNConv/graph:{g}/F:{f}/real_time", f"BM_GCNConvUnfused/graph:{g}/F:{f}/real_time",
                           f"GCNConv {f}->{f}, {gname}"))
        lpairs.append((f"BM_SAGEConv/graph:{g}/real_time", f"BM_SAGEConvUnfused/graph:{g}/real_time", f"SAGEConv mean 128->128, {gname}"))
        for h in (1, 4):
            lpairs.append((f"BM_GATConv/graph:{g}/heads:{h}/real_time", f"BM_GATConvUnfused/graph:{g}/heads:{h}/real_time",
                           f"GATConv 128->{h}x64, {gname}"))
    out.append("\n## Layers, forward + backward, 100k / 2M\n\n")
    out.append(table(["layer", "Ripple ms", "unfused ms", "speed-up", "peak memory Ripple / unfused"], ratio_rows(ml, lpairs)))

    m2, m1 = medians(big2), medians(big1)
    if m2:
        copy = m2.get("BM_CopyBandwidth/real_time")
        out.append("\n## 1M nodes / 20M edges, F = 128\n\n")
        out.append(table(["benchmark", "graph", "ms", "GB/s (no reuse)", "of copy", "peak MB"], kernel_rows(m2)))
        rows = []
        for base_name, base, others in (("rmat", "BM_GSpmmCopyLhsSum/graph:1/F:128/real_time",
                                         ["BM_GSpmmCopyLhsSumOrder/graph:2/F:128/real_time", "BM_GSpmmCopyLhsSumOrder/graph:3/F:128/real_time",
                                          "BM_GSpmmCopyLhsSumOrder/graph:4/F:128/real_time"]),
                                        ("uniform", "BM_GSpmmCopyLhsSum/graph:0/F:128/real_time",
                                         ["BM_GSpmmCopyLhsSumOrder/graph:5/F:128/real_time"])):
            b = m2.get(base)
            for o in others:
                if b and o in m2:
                    rows.append([m2[o].get("label", o), f"{ms(m2[o]):.0f}", f"{ms(b):.0f}", f"{ms(b) / ms(m2[o]):.2f}x"])
        out.append("\nReordering and index width against random order (copy_lhs/sum):\n\n")
        out.append(table(["graph", "ms", "random-order ms", "throughput ratio"], rows))
        if copy:
            out.append(f"\nCopy bandwidth in this run: {gbps(copy):.1f} GB/s.\n")
    if m1 and m2:
        rows = []
        for name in m1:
            if name in m2 and name != "BM_CopyBandwidth/real_time":
                rows.append([name.replace("/real_time", ""), f"{ms(m1[name]):.0f}", f"{ms(m2[name]):.0f}", f"{ms(m1[name]) / ms(m2[name]):.2f}x"])
        c1, c2 = m1.get("BM_CopyBandwidth/real_time"), m2.get("BM_CopyBandwidth/real_time")
        if c1 and c2:
            rows.append(["copy probe (GB/s)", f"{gbps(c1):.1f}", f"{gbps(c2):.1f}", f"{gbps(c2) / gbps(c1):.2f}x"])
        out.append("\n## Threads, 1M / 20M, F = 128\n\n")
        out.append(table(["kernel", "1 thread ms", "2 threads ms", "speed-up"], rows))
    mb = medians(big_l)
    if mb:
        out.append("\n## Layers at 1M / 20M, RMAT (forward + backward)\n\n")
        out.append(table(["benchmark", "graph", "ms", "GB/s (no reuse)", "of copy", "peak MB"], kernel_rows(mb)))
        out.append("\n")
        out.append(table(["layer", "Ripple ms", "unfused ms", "speed-up", "peak memory Ripple / unfused"],
                         ratio_rows(mb, [("BM_GCNConv/graph:1/F:64/real_time", "BM_GCNConvUnfused/graph:1/F:64/real_time",
                                          "GCNConv 64->64, rmat 1M/20M")])))

    mr = medians(load(results, "recommend"))
    rrows = ratio_rows(mr, [("BM_UltraGcnNegativesFused/real_time", "BM_UltraGcnNegativesAten/real_time",
                             "UltraGCN negatives, 512 x 1500 of 70,839 x 64, loss + gradient")])
    if rrows:
        out.append("\n## Recommendation: UltraGCN's negative term (one Gowalla batch)\n\n")
        out.append(table(["what", "fused ms", "ATen ms", "speed-up", "peak memory"], rrows))
    ranking = mr.get("BM_FullRanking/256/real_time")
    if ranking:
        # The scores are a [29,858 x 64] x [64 x 40,981] product: 2 x 29,858 x 40,981 x 64 FLOP.
        gflop = 2 * 29858 * 40981 * 64 / 1e9
        out.append("\n## Recommendation: full-ranking evaluation at Gowalla's size (chunks of 256 users)\n\n")
        out.append(table(["ms", "score GFLOP", "GFLOP/s (the whole evaluation)"],
                         [[f"{ms(ranking):.0f}", f"{gflop:.0f}", f"{gflop / (ms(ranking) / 1e3):.0f}"]]))

    path = os.path.join(results, "end_to_end.jsonl")
    if os.path.exists(path):
        rows = []
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    r = json.loads(line)
                    rows.append([r["model"], r["dataset"], r["nodes"], r["edges"], r["features"], r["layers"],
                                 f"{r['heads']}x{r['hidden']}" if r["model"] == "gat" else r["hidden"], r["threads"],
                                 f"{r['epoch_ms_median']:.1f}", f"{r['epoch_ms_min']:.1f}-{r['epoch_ms_max']:.1f}",
                                 f"{r['forward_ms_median']:.1f} / {r['backward_ms_median']:.1f} / {r['step_ms_median']:.1f}",
                                 f"{r['peak_rss_mb']:.0f}"])
        out.append("\n## End to end: one full-batch training epoch (`ripple bench`)\n\n")
        out.append(table(["model", "dataset", "nodes", "edges", "F", "layers", "hidden", "threads", "epoch ms (median)",
                          "min-max", "fwd / bwd / step ms", "peak RSS MB"], rows))
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
