#!/usr/bin/env python3
"""Packs a directory of files into one fuzz input (the record layout of fuzz/fuzz_files.h).

    pack_corpus.py OUT_FILE DIR [--gunzip] [--first RELPATH]

Every file under DIR becomes a record named by its path relative to DIR. --gunzip stores
"x.csv.gz" decompressed as "x.csv" (the readers accept plain text under the .csv name), so
the fuzzer mutates text rather than compressed bytes. --first puts that file's record
first (the CSV target reads the first record line by line). Writes OUT_FILE.tmp, then
renames it.
"""

import argparse
import gzip
import os
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("dir")
    p.add_argument("--gunzip", action="store_true")
    p.add_argument("--first")
    a = p.parse_args()
    records = []
    for root, _, names in os.walk(a.dir):
        for name in sorted(names):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, a.dir)
            with open(path, "rb") as f:
                data = f.read()
            if a.gunzip and rel.endswith(".gz"):
                data, rel = gzip.decompress(data), rel[:-3]
            records.append((rel, data))
    if not records:
        sys.exit(f"pack_corpus.py: {a.dir}: no files to pack")
    records.sort(key=lambda r: (r[0] != a.first, r[0]))
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"\n".join(b"@@@@ " + rel.encode() + b"\n" + data for rel, data in records))
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
