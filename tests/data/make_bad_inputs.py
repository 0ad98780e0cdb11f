#!/usr/bin/env python3
"""Writes the bad-input corpus under tests/data/bad/ (committed; re-run to regenerate).

Each case is a small dataset in the OGB raw layout with one defect, and an `expect.txt`
holding the text the error message must contain. tests/io/bad_input_test.cpp runs
`ripple info` and `ripple train` on every case and checks exit code 2 and the message.
"""
import gzip
import os
import shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad")

GOOD = {
    "raw/num-node-list.csv.gz": "6\n",
    "raw/num-edge-list.csv.gz": "6\n",
    "raw/edge.csv.gz": "0,1\n1,0\n1,2\n2,1\n3,4\n4,5\n",
    "raw/node-feat.csv.gz": "1,0,0\n0,1,0\n0,0,1\n1,1,0\n0,1,1\n1,0,1\n",
    "raw/node-label.csv.gz": "0\n1\n0\n1\n0\n1\n",
    "split/public/train.csv.gz": "0\n1\n",
    "split/public/valid.csv.gz": "2\n3\n",
    "split/public/test.csv.gz": "4\n5\n",
}


def gz(text):
    return gzip.compress(text.encode(), mtime=0)


def write_case(name, expect, replace=None, raw_bytes=None, remove=()):
    files = {k: gz(v) for k, v in GOOD.items()}
    for k, v in (replace or {}).items():
        files[k] = gz(v)
    for k, v in (raw_bytes or {}).items():
        files[k] = v
    for k in remove:
        del files[k]
    d = os.path.join(ROOT, name)
    for rel, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        with open(os.path.join(d, rel), "wb") as f:
            f.write(data)
    with open(os.path.join(d, "expect.txt"), "w") as f:
        f.write(expect + "\n")


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    feat = gz(GOOD["raw/node-feat.csv.gz"] * 200)
    corrupt = bytearray(feat)
    for i in range(20, 40):
        corrupt[i] ^= 0x5A
    write_case("truncated_gz", "corrupt or truncated", raw_bytes={"raw/node-feat.csv.gz": feat[: len(feat) // 2]})
    write_case("corrupt_gz", "corrupt or truncated", raw_bytes={"raw/node-feat.csv.gz": bytes(corrupt)})
    write_case("non_numeric_token", "edge.csv.gz:3: column 2: expected an integer value, got 'abc'",
               replace={"raw/edge.csv.gz": "0,1\n1,0\n1,abc\n2,1\n3,4\n4,5\n"})
    write_case("wrong_column_count", "edge.csv.gz:2: expected 2 columns (src,dst), got 3",
               replace={"raw/edge.csv.gz": "0,1\n1,0,7\n1,2\n2,1\n3,4\n4,5\n"})
    write_case("node_id_out_of_range", "edge.csv.gz:5: node id 99 out of range [0, 6)",
               replace={"raw/edge.csv.gz": "0,1\n1,0\n1,2\n2,1\n3,99\n4,5\n"})
    write_case("negative_node_id", "edge.csv.gz:1: node id -1 out of range [0, 6)",
               replace={"raw/edge.csv.gz": "-1,1\n1,0\n1,2\n2,1\n3,4\n4,5\n"})
    write_case("label_file_too_short", "node-label.csv.gz: expected 6 lines, got 4",
               replace={"raw/node-label.csv.gz": "0\n1\n0\n1\n"})
    write_case("empty_label_file", "node-label.csv.gz: file is empty", replace={"raw/node-label.csv.gz": ""})
    write_case("missing_split_file", "split/public/test.csv.gz: missing file", remove=["split/public/test.csv.gz"])
    write_case("feature_row_width", "node-feat.csv.gz:4: expected 3 columns (as on line 1), got 2",
               replace={"raw/node-feat.csv.gz": "1,0,0\n0,1,0\n0,0,1\n1,1\n0,1,1\n1,0,1\n"})
    write_case("edge_count_mismatch", "expected 7 edges (num-edge-list), got 6",
               replace={"raw/num-edge-list.csv.gz": "7\n"})
    write_case("split_id_out_of_range", "train.csv.gz:2: node id 6 out of range [0, 6)",
               replace={"split/public/train.csv.gz": "0\n6\n"})
    write_case("negative_label", "node-label.csv.gz:3: label must be a non-negative class id, got -2",
               replace={"raw/node-label.csv.gz": "0\n1\n-2\n1\n0\n1\n"})
    write_case("missing_edge_file", "raw/edge.csv.gz: missing file", remove=["raw/edge.csv.gz"])
    # A valid tiny dataset, used by tests that need one.
    write_case("../good_tiny", "")
    os.remove(os.path.join(ROOT, "..", "good_tiny", "expect.txt"))


if __name__ == "__main__":
    main()
