"""Trains Baton's code-search encoder: a weighted bag of WordPiece embeddings, shared by queries and
code, v(text) = normalize(sum_t count_t * w_t * E_t), with in-batch-negatives InfoNCE.

numpy + scipy.sparse only, hand-written gradients, row-sparse Adagrad. Inputs come from
train/prepare.ts (token ids produced by transformers.js itself); the result is written to
train/data/model.npz and exported by train/export.ts.

    python3 train/train.py [--epochs 8] [--dims 384] [--batch 1024] [--seed 13]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOK = os.path.join(ROOT, 'train', 'data', 'tok')
SILENT = (0, 2, 3)  # [PAD] [CLS] [SEP]: zeroed by the ONNX export, so they never count


def load_ids(prefix):
    ids = np.fromfile(prefix + '.ids.bin', dtype=np.int32)
    off = np.fromfile(prefix + '.off.bin', dtype=np.int64)
    return ids, off


TF_POWER = 1.0  # set from --tf-power: a token seen c times counts c ** TF_POWER (the export does the same)


def bag_matrix(ids, off, rows, vocab, drop=0.0, rng=None, raw=False):
    """Sparse (len(rows) x vocab) token-count matrix for the selected texts; in training, each
    token occurrence is dropped with probability `drop` (word dropout, a regulariser for bags)."""
    starts, ends = off[rows], off[rows + 1]
    lens = ends - starts
    idx = np.concatenate([ids[s:e] for s, e in zip(starts, ends)]) if len(rows) else np.zeros(0, np.int32)
    row = np.repeat(np.arange(len(rows)), lens)
    keep = ~np.isin(idx, SILENT)
    if drop > 0:
        keep &= rng.random(len(idx)) >= drop
    m = sp.csr_matrix((np.ones(keep.sum(), np.float32), (row[keep], idx[keep])), shape=(len(rows), vocab))
    m.sum_duplicates()
    if TF_POWER != 1.0 and not raw:
        m.data = m.data ** TF_POWER
    return m


class Model:
    def __init__(self, vocab, dims, idf, rng):
        # Random near-orthogonal rows: at step 0 the model is a tf-idf cosine, a sensible start.
        self.E = (rng.standard_normal((vocab, dims)) / math.sqrt(dims)).astype(np.float32)
        self.w = idf.astype(np.float32)
        self.gE = np.zeros_like(self.E)
        self.gw = np.zeros_like(self.w)

    def encode(self, A):
        S = A @ (self.E * self.w[:, None]) if A.shape[0] > 2048 else None
        if S is None:
            used = np.unique(A.indices)
            S = A[:, used] @ (self.E[used] * self.w[used, None])
        n = np.linalg.norm(S, axis=1, keepdims=True) + 1e-8
        return S / n


def infonce_step(model, Aq, Ac, group, tau, lr):
    """One symmetric InfoNCE step on a batch; returns the loss. Ac may have more rows than Aq:
    the extra rows are hard negatives (other chunks of the same packages), candidates for the
    query -> code direction only."""
    used = np.unique(np.concatenate([Aq.indices, Ac.indices]))
    Aq_u, Ac_u = Aq[:, used], Ac[:, used]
    EU, wU = model.E[used], model.w[used]
    T = EU * wU[:, None]
    Sq, Sc = Aq_u @ T, Ac_u @ T
    nq = np.linalg.norm(Sq, axis=1, keepdims=True) + 1e-8
    nc = np.linalg.norm(Sc, axis=1, keepdims=True) + 1e-8
    Q, C = Sq / nq, Sc / nc
    L = (Q @ C.T) / tau
    B = L.shape[0]
    # Pairs that share the same code (a sentence and a full doc of one function) are not negatives.
    same = (group[:, None] == group[None, :]) & ~np.eye(B, dtype=bool)
    L[:, :B][same] = -1e4
    def softmax(X):
        X = X - X.max(axis=1, keepdims=True)
        P = np.exp(X)
        return P / P.sum(axis=1, keepdims=True)
    Pr, Pc = softmax(L), softmax(L[:, :B].T)
    diag = np.arange(B)
    loss = -0.5 * (np.log(Pr[diag, diag] + 1e-12).mean() + np.log(Pc[diag, diag] + 1e-12).mean())
    G = Pr * 0.5
    G[:, :B] += Pc.T * 0.5
    G[diag, diag] -= 1.0
    G /= (B * tau)
    dQ, dC = G @ C, G.T @ Q
    # Through the normalisation: d s = (dv - v (v . dv)) / |s|
    dSq = (dQ - Q * (Q * dQ).sum(1, keepdims=True)) / nq
    dSc = (dC - C * (C * dC).sum(1, keepdims=True)) / nc
    M = np.asarray(Aq_u.T @ dSq + Ac_u.T @ dSc)
    gE = M * wU[:, None]
    gw = (EU * M).sum(1)
    # Row-sparse Adagrad: only the rows this batch touched move.
    model.gE[used] += gE * gE
    model.E[used] = EU - lr * gE / (np.sqrt(model.gE[used]) + 1e-6)
    model.gw[used] += gw * gw
    model.w[used] = np.maximum(wU - lr * gw / (np.sqrt(model.gw[used]) + 1e-6), 0.0)
    return float(loss)


def ranks_of_truth(Q, C, truth_sets, qpkg=None, cpkg=None):
    """Rank (1-based) of the best relevant candidate for each query, Q x C dense similarities;
    with qpkg/cpkg, only the candidates of the query's own package compete (retrieval in a repo)."""
    out = []
    for s in range(0, Q.shape[0], 1024):
        scores = Q[s:s + 1024] @ C.T
        if qpkg is not None:
            scores = np.where(qpkg[s:s + 1024, None] == cpkg[None, :], scores, -np.inf)
        for i, rel in enumerate(truth_sets[s:s + 1024]):
            best = scores[i, rel].max()
            out.append(int((scores[i] > best).sum()) + 1)
    return np.array(out)


def metrics(ranks):
    return {
        'mrr10': float(np.where(ranks <= 10, 1.0 / ranks, 0).mean()),
        'r1': float((ranks == 1).mean()),
        'r10': float((ranks <= 10).mean()),
    }


def bm25_scores(Aq, Ad, k1=1.2, b=0.75):
    """BM25 over token counts with the model's own tokens (dev comparison only)."""
    N = Ad.shape[0]
    df = np.asarray((Ad > 0).sum(0)).ravel()
    idf = np.log(1 + (N - df + 0.5) / (df + 0.5)).astype(np.float32)
    dl = np.asarray(Ad.sum(1)).ravel()
    Ad = Ad.tocoo()
    tf = Ad.data
    denom = tf + k1 * (1 - b + b * dl[Ad.row] / dl.mean())
    W = sp.csr_matrix((tf * (k1 + 1) / denom * idf[Ad.col], (Ad.row, Ad.col)), shape=Ad.shape)
    Qb = Aq.copy()
    Qb.data[:] = 1.0
    return np.asarray((Qb @ W.T).todense())


class DevBench:
    """The dev split of the retrieval benchmark, 40-line chunks, per-repo candidate sets."""

    def __init__(self, vocab):
        meta = json.load(open(os.path.join(TOK, 'dev.meta.json')))
        cid, coff = load_ids(os.path.join(TOK, 'dev.chunks'))
        qid, qoff = load_ids(os.path.join(TOK, 'dev.queries'))
        self.Ac = bag_matrix(cid, coff, np.arange(len(coff) - 1), vocab)
        self.Aq = bag_matrix(qid, qoff, np.arange(len(qoff) - 1), vocab)
        raw_c = bag_matrix(cid, coff, np.arange(len(coff) - 1), vocab, raw=True)
        raw_q = bag_matrix(qid, qoff, np.arange(len(qoff) - 1), vocab, raw=True)
        self.rel = meta['relevant']
        self.crepo = np.array(meta['chunkRepo'])
        self.qrepo = np.array(meta['queryRepo'])
        self.bm25 = bm25_scores(raw_q, raw_c)

    def _ranks(self, S):
        ranks = []
        for i, rel in enumerate(self.rel):
            s = np.where(self.crepo == self.qrepo[i], S[i], -np.inf)
            ranks.append(int((s > s[rel].max()).sum()) + 1)
        return np.array(ranks)

    def evaluate(self, model):
        Q, C = model.encode(self.Aq), model.encode(self.Ac)
        D = Q @ C.T
        out = {'dense': metrics(self._ranks(D)), 'bm25': metrics(self._ranks(self.bm25))}
        # Reciprocal-rank fusion (k = 60) within each repo.
        fused = np.zeros_like(D)
        for S in (D, self.bm25):
            for r in np.unique(self.qrepo):
                qs, cs = np.where(self.qrepo == r)[0], np.where(self.crepo == r)[0]
                sub = S[np.ix_(qs, cs)]
                order = np.argsort(-sub, axis=1)
                rank = np.empty_like(order)
                rank[np.arange(len(qs))[:, None], order] = np.arange(1, len(cs) + 1)[None, :]
                fused[np.ix_(qs, cs)] += 1.0 / (60 + rank)
        out['rrf'] = metrics(self._ranks(fused))
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dims', type=int, default=384)
    ap.add_argument('--batch', type=int, default=1024)
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--lr', type=float, default=0.05)
    ap.add_argument('--tau', type=float, default=0.05)
    ap.add_argument('--seed', type=int, default=13)
    ap.add_argument('--patience', type=int, default=2)
    ap.add_argument('--drop', type=float, default=0.0)
    ap.add_argument('--max-minutes', type=float, default=25)
    ap.add_argument('--negs', type=int, default=32, help='hard negatives per 64 pairs (other chunks of the same packages)')
    ap.add_argument('--out', default=os.path.join(ROOT, 'train', 'data', 'model.npz'))
    ap.add_argument('--tf-power', type=float, default=0.5, help='sub-linear tf: count ** p (1 = plain bag)')
    args = ap.parse_args()
    global TF_POWER
    TF_POWER = args.tf_power
    rng = np.random.default_rng(args.seed)
    vocab = sum(1 for _ in open(os.path.join(TOK, 'vocab.txt'), encoding='utf8'))

    tq, tqo = load_ids(os.path.join(TOK, 'train.q'))
    tc, tco = load_ids(os.path.join(TOK, 'train.c'))
    vq, vqo = load_ids(os.path.join(TOK, 'valid.q'))
    vc, vco = load_ids(os.path.join(TOK, 'valid.c'))
    meta = json.load(open(os.path.join(TOK, 'train.meta.json')))
    n = len(tqo) - 1
    # Code groups: pairs with byte-identical code token lists share a group.
    keys = {}
    group = np.array([keys.setdefault(tc[tco[i]:tco[i + 1]].tobytes(), len(keys)) for i in range(n)])
    pkg_names, pkgs = np.unique(np.array(meta['pkg']), return_inverse=True)  # stable ids (str hash() is salted)
    # Hard negatives: the other chunks of each training package.
    have_negs = os.path.exists(os.path.join(TOK, 'train.n.ids.bin'))
    tn, tno = load_ids(os.path.join(TOK, 'train.n')) if have_negs else (None, None)
    npkg = np.array(json.load(open(os.path.join(TOK, 'train.n.meta.json')))['pkg'] if have_negs else [])
    pool = {i: np.where(npkg == name)[0] for i, name in enumerate(pkg_names)}
    print(f'hard negatives {len(npkg)}', flush=True)
    print(f'vocab {vocab}, train pairs {n}, code groups {len(keys)}, valid pairs {len(vqo) - 1}', flush=True)

    # IDF over training code, the initial token weight.
    Atc = bag_matrix(tc, tco, np.unique(np.unique(group, return_index=True)[1]), vocab)
    df = np.asarray((Atc > 0).sum(0)).ravel()
    idf = np.log((Atc.shape[0] + 1) / (df + 1)) + 1.0
    model = Model(vocab, args.dims, idf, rng)

    # Validation: each valid query against all distinct valid codes.
    nv = len(vqo) - 1
    vkeys = {}
    vgroup = np.array([vkeys.setdefault(vc[vco[i]:vco[i + 1]].tobytes(), len(vkeys)) for i in range(nv)])
    firsts = np.unique(vgroup, return_index=True)[1]
    Avq = bag_matrix(vq, vqo, np.arange(nv), vocab)
    # Candidates: each valid package's distinct positives plus its other chunks.
    if have_negs:
        vn, vno = load_ids(os.path.join(TOK, 'valid.n'))
        vnpkg = json.load(open(os.path.join(TOK, 'valid.n.meta.json')))['pkg']
        Avc = sp.vstack([bag_matrix(vc, vco, firsts, vocab), bag_matrix(vn, vno, np.arange(len(vno) - 1), vocab)]).tocsr()
    else:
        vnpkg, Avc = [], bag_matrix(vc, vco, firsts, vocab)
    vmeta_pkg = np.array(json.load(open(os.path.join(TOK, 'valid.meta.json')))['pkg'])
    vqpkg = vmeta_pkg
    vcpkg = np.concatenate([vmeta_pkg[firsts], np.array(vnpkg, dtype=vmeta_pkg.dtype if len(vnpkg) else object)])
    vtruth = [[g] for g in vgroup]
    dev = DevBench(vocab) if os.path.exists(os.path.join(TOK, 'dev.meta.json')) else None

    def validate(tag):
        r = metrics(ranks_of_truth(model.encode(Avq), model.encode(Avc), vtruth, vqpkg, vcpkg))
        d = dev.evaluate(model) if dev else None
        print(f'[{tag}] valid mrr10 {r["mrr10"]:.4f} r1 {r["r1"]:.4f}' +
              (f' | dev dense {d["dense"]["mrr10"]:.4f} bm25 {d["bm25"]["mrr10"]:.4f} rrf {d["rrf"]["mrr10"]:.4f}' if d else ''),
              flush=True)
        return r, d

    best, _ = validate('init')
    best_state = (model.E.copy(), model.w.copy())
    history = []
    bad = 0
    t_start = time.time()
    for epoch in range(1, args.epochs + 1):
        # Batches of 1024 made of 16 blocks of 64 same-package pairs: some negatives come from the
        # same code base, as in the benchmark (retrieval within one repository).
        order = np.lexsort((rng.random(n), pkgs))
        blocks = [order[i:i + 64] for i in range(0, n, 64)]
        rng.shuffle(blocks)
        perm = np.concatenate(blocks)
        losses = []
        t0 = time.time()
        for s in range(0, n - args.batch + 1, args.batch):
            rows = perm[s:s + args.batch]
            Aq = bag_matrix(tq, tqo, rows, vocab, args.drop, rng)
            Ac = bag_matrix(tc, tco, rows, vocab, args.drop, rng)
            if args.negs > 0 and have_negs:
                us, cnt = np.unique(pkgs[rows], return_counts=True)
                picks = []
                for u, c in zip(us, cnt):
                    k = min(len(pool[u]), int(round(args.negs * c / 64)))
                    if k > 0:
                        picks.append(rng.choice(pool[u], k, replace=False))
                if picks:
                    Ac = sp.vstack([Ac, bag_matrix(tn, tno, np.concatenate(picks), vocab, args.drop, rng)]).tocsr()
            losses.append(infonce_step(model, Aq, Ac, group[rows], args.tau, args.lr))
        r, d = validate(f'epoch {epoch} loss {np.mean(losses):.4f} {time.time() - t0:.0f}s')
        history.append({'epoch': epoch, 'loss': float(np.mean(losses)), 'valid': r, 'dev': d})
        if r['mrr10'] > best['mrr10']:
            best, bad = r, 0
            best_state = (model.E.copy(), model.w.copy())
        else:
            bad += 1
            if bad >= args.patience:
                print('early stop', flush=True)
                break
        if (time.time() - t_start) / 60 > args.max_minutes:
            print('time budget reached', flush=True)
            break
    model.E, model.w = best_state
    final_r, final_d = validate('best')
    np.savez(args.out, embeddings=model.E, token_weights=model.w, dims=args.dims)
    # Raw little-endian float32 for train/export.ts (Node has no npz reader).
    model.E.astype('<f4').tofile(args.out.replace('.npz', '.embeddings.f32'))
    model.w.astype('<f4').tofile(args.out.replace('.npz', '.weights.f32'))
    json.dump({'args': vars(args), 'history': history, 'best_valid': final_r, 'best_dev': final_d,
               'train_pairs': n, 'vocab': vocab}, open(args.out.replace('.npz', '.json'), 'w'), indent=1)
    print('saved', args.out)


if __name__ == '__main__':
    main()
