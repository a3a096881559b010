#!/usr/bin/env bash
# Rebuilds Baton's code-search model from scratch: benchmark (for the banned-query list and dev
# numbers), training corpus, vocabulary + tokenisation, training, export, evaluation on dev.
# Needs: Node 20 with this repository's node_modules, python3 with numpy and scipy, the npm registry
# (only for tarballs not yet in train/data/cache). Seeds are fixed (train.py --seed 13; package
# splits are hash-based). The test split is not touched here: report it once with
# `node out/bench/retrieval.js --split test`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Full transpile: mining and tokenising use Baton's own chunker and documentText (out/src/...).
node esbuild.mjs
node out/bench/dataset/build.js              # A: bench/data/retrieval/{dev,test}
node out/train/mine.js ${MINE_FLAGS:-}        # B: train/data/{pairs,negatives}.*.jsonl, train/SOURCES.tsv
node out/train/prepare.js                    #    vocab + transformers.js token ids
python3 train/train.py --seed 13 "$@"        # C: train/data/model.*
node out/train/export.js                     # D: models/baton-code-search/
rm -rf bench/data/indexes/dev/baton          # E: the official benchmark, dev split
node out/bench/retrieval.js --split dev
