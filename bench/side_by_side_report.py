#!/usr/bin/env python3
"""The summary of a side-by-side benchmark (bench/*_side_by_side.sh): reads JSON lines, each
with "lib" (ripple, pyg-sparse or pyg) and an epoch and an evaluation time in ms under the
keys given, and prints each library's medians and their ratios to Ripple's.

  python3 bench/side_by_side_report.py RESULTS.jsonl EPOCH_KEY EVAL_KEY
"""
import json, statistics, sys

path, epoch_key, eval_key = sys.argv[1:4]
rows = [json.loads(l) for l in open(path)]


def med(lib, key):
    v = [x[key] for x in rows if x["lib"] == lib]
    return statistics.median(v) if v else None


r_train, r_eval = med("ripple", epoch_key), med("ripple", eval_key)
print(f"ripple: epoch {r_train:.0f} ms, evaluation {r_eval:.0f} ms")
for lib in ("pyg-sparse", "pyg"):
    t, e = med(lib, epoch_key), med(lib, eval_key)
    if t is not None:
        print(f"{lib}: epoch {t:.0f} ms ({t / r_train:.2f}x Ripple's), evaluation {e:.0f} ms ({e / r_eval:.2f}x)")
