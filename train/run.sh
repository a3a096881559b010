#!/usr/bin/env bash
# Rebuilds Baton's code-search model from scratch: benchmark (for the banned-query list and dev
# early-stopping numbers), training corpus, vocabulary + tokenisation, training, export, evaluation.
# Needs: Node 20 with this repository's node_modules, python3 with numpy and scipy, the npm registry.
# Seeds are fixed (train.py --seed 13; package splits are hash-based); about 30-40 min on 2 busy cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# Transpile only what this pipeline needs (the full `node esbuild.mjs` works too).
./node_modules/.bin/esbuild bench/dataset/*.ts train/*.ts --outdir=out --outbase=. \
  --platform=node --format=cjs --target=node20 --log-level=warning
node out/bench/dataset/build.js              # A: bench/data/retrieval/{dev,test}
node out/train/mine.js                       # B: train/data/pairs.*.jsonl, train/SOURCES.tsv
node out/train/prepare.js                    #    vocab + transformers.js token ids
python3 train/train.py --seed 13 "$@"        # C: train/data/model.*
node out/train/export.js                     # D: models/baton-code-search/
node out/bench/dataset/evalFunctions.js --split dev --model models/baton-code-search
node out/bench/dataset/evalFunctions.js --split test --model models/baton-code-search
