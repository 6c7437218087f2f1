"""Similarity-graph matching attack (after Vidanage, Ranbaduge, Christen and Schnell 2020,
"A graph matching attack on privacy-preserving record linkage", CIKM).

The attack uses nothing but the fact that encodings preserve similarity, so it applies to
any encoding that still links, hardened or not. The attacker builds two graphs:

* the encoded graph: one node per distinct encoding, edges between pairs whose Dice
  similarity is at least a threshold;
* the plaintext graph: one node per distinct reference identity, edges weighted by the
  similarity of their tokens (q-gram Dice, each token weighted by the bits it sets), or, when
  ``reference_bits`` is given, by the Dice similarity of the attacker's own encoding of the
  reference under the public schema with a key of its own (the strongest form: random
  hashing and hardening with a different key give the same similarity distribution).

Plaintext similarities are mapped onto the encoded scale by matching their quantiles (the
"similarity adjustment" step), and both graphs are thresholded so that they have the same
edge density. Every node gets a feature vector (Vidanage et al.'s node features): degree,
maximum, minimum, mean and standard deviation of its edge similarities, a histogram of its
edge similarities, the mean and maximum degree of its neighbours, its number of 2-hop
neighbours, the number of edges and the density of its egonet, and its PageRank. Features
are log-scaled where they count, standardised over both graphs, and nodes are matched by the
cosine similarity of their features with ``scipy.optimize.linear_sum_assignment`` on the
nodes that have neighbours. Pairs that are each other's best match are kept.

Refinement (propagation, as in seed-and-extend graph de-anonymisation): the kept pairs
serve as anchors; every node is then described by its similarities to the anchors, and nodes
are matched again by the mean squared difference of these profiles; pairs that are mutual
best matches are the guesses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from linkage.privacy.plaintext import PlainRecords
from linkage.privacy.reidentify import unique_identities
from linkage.privacy.results import NO_GUESS, AttackResult, score_guesses

__all__ = ["graph_matching_attack", "node_features"]

_HIST_BINS = 5


def _dice_bits(bits: np.ndarray) -> np.ndarray:
    f = bits.astype(np.float32)
    inter = f @ f.T
    w = f.sum(axis=1)
    return 2 * inter / np.maximum(w[:, None] + w[None, :], 1.0)


def _dice_tokens(tokens: list[frozenset[str]], reference: PlainRecords) -> np.ndarray:
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for i, toks in enumerate(tokens):
        for t in toks:
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
            vals.append(float(reference.token_weight(t)))
    a = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(tokens), len(vocab)))
    w = sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=a.shape)
    inter = (w @ a.T).toarray()
    size = np.asarray(w.sum(axis=1)).ravel()
    return (2 * inter / np.maximum(size[:, None] + size[None, :], 1.0)).astype(np.float32)


def _quantile_map(values: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Map ``values`` from the distribution of ``source`` onto that of ``target``."""
    q = np.linspace(0, 1, 513)
    return np.interp(values, np.quantile(source, q), np.quantile(target, q)).astype(np.float32)


def _offdiag(sim: np.ndarray, limit: int = 2_000_000, seed: int = 0) -> np.ndarray:
    n = len(sim)
    iu = np.triu_indices(n, 1)
    vals = sim[iu]
    if len(vals) > limit:
        vals = np.random.default_rng(seed).choice(vals, limit, replace=False)
    return vals


def _threshold_for_degree(sim: np.ndarray, degree: float) -> float:
    vals = _offdiag(sim)
    density = min(degree / max(len(sim) - 1, 1), 1.0)
    return float(np.quantile(vals, 1 - density))


def node_features(sim: np.ndarray, threshold: float) -> np.ndarray:
    """(n, d) node features of the graph with edges where ``sim >= threshold``."""
    n = len(sim)
    adj = sim >= threshold
    np.fill_diagonal(adj, False)
    a = sparse.csr_matrix(adj.astype(np.float32))
    deg = np.asarray(a.sum(axis=1)).ravel()
    w = np.where(adj, sim, 0.0)
    has = deg > 0
    s_max = np.where(has, np.where(adj, sim, -np.inf).max(axis=1), 0.0)
    s_min = np.where(has, np.where(adj, sim, np.inf).min(axis=1), 0.0)
    s_mean = w.sum(axis=1) / np.maximum(deg, 1)
    s_sq = (np.where(adj, sim, 0.0) ** 2).sum(axis=1) / np.maximum(deg, 1)
    s_std = np.sqrt(np.maximum(s_sq - s_mean**2, 0.0))
    edges = np.linspace(threshold, 1.0 + 1e-6, _HIST_BINS + 1)
    hist = np.stack([(adj & (sim >= lo) & (sim < hi)).sum(axis=1) for lo, hi in pairwise(edges)], axis=1)
    nb_deg_mean = np.asarray(a @ deg).ravel() / np.maximum(deg, 1)
    nb_deg_max = np.asarray(a.multiply(deg[None, :]).max(axis=1).todense()).ravel()
    two = a @ a
    two_hop = np.asarray(((two + a) > 0).sum(axis=1)).ravel() - (deg > 0)
    triangles = np.asarray(two.multiply(a).sum(axis=1)).ravel() / 2
    ego_edges = deg + triangles
    ego_density = ego_edges / np.maximum(deg * (deg + 1) / 2, 1)
    pagerank = _pagerank(sparse.csr_matrix(w.astype(np.float32)))
    counts = np.log1p(np.column_stack([deg, hist, nb_deg_mean, nb_deg_max, two_hop, ego_edges]))
    return np.column_stack([counts, s_max, s_min, s_mean, s_std, ego_density, np.log(pagerank * n)])


def _pagerank(w: sparse.csr_matrix, damping: float = 0.85, rounds: int = 50) -> np.ndarray:
    n = w.shape[0]
    out = np.asarray(w.sum(axis=1)).ravel()
    inv = np.where(out > 0, 1.0 / np.maximum(out, 1e-12), 0.0)
    p = np.full(n, 1.0 / n)
    wt = w.T.tocsr()
    for _ in range(rounds):
        spread = wt @ (p * inv)
        dangling = p[out == 0].sum() / n
        p = (1 - damping) / n + damping * (spread + dangling)
    return p


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    return a @ b.T


def _mutual_matches(score: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Assignment (maximising ``score``) restricted to pairs that are mutual best matches."""
    r, c = linear_sum_assignment(-score)
    mutual = (score[r].argmax(axis=1) == c) & (score[:, c].argmax(axis=0) == r)
    return rows[r[mutual]], cols[c[mutual]]


@dataclass(frozen=True)
class _Graph:
    sim: np.ndarray  # (n, n) similarities on the encoded scale
    threshold: float


def graph_matching_attack(
    bits: np.ndarray,
    reference: PlainRecords,
    true_identity: np.ndarray,
    *,
    reference_bits: np.ndarray | None = None,
    avg_degree: float = 10.0,
    refine_rounds: int = 2,
    max_anchors: int = 500,
) -> AttackResult:
    """Run the attack on (n, L) bool encodings against the reference population."""
    start = time.perf_counter()
    n = len(bits)
    packed = np.packbits(bits, axis=1)
    view = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, enc_first, enc_inverse = np.unique(view, return_index=True, return_inverse=True)
    ref_nodes = unique_identities(reference)
    enc_sim = _dice_bits(bits[enc_first])
    if reference_bits is not None:
        ref_sim = _dice_bits(reference_bits[ref_nodes])
        t_enc = _threshold_for_degree(enc_sim, avg_degree)
        t_ref = t_enc
    else:
        raw = _dice_tokens([reference.tokens[i] for i in ref_nodes], reference)
        ref_sim = _quantile_map(raw, _offdiag(raw), _offdiag(enc_sim))
        t_enc = _threshold_for_degree(enc_sim, avg_degree)
        t_ref = _threshold_for_degree(ref_sim, avg_degree * (len(ref_nodes) - 1) / max(len(enc_first) - 1, 1))
    enc, ref = _Graph(enc_sim, t_enc), _Graph(ref_sim, t_ref)
    node_guess = _match(enc, ref, refine_rounds, max_anchors)
    guesses = np.full(n, NO_GUESS, dtype=np.int64)
    node_ref = np.where(node_guess >= 0, ref_nodes[np.maximum(node_guess, 0)], NO_GUESS)
    guesses[:] = node_ref[enc_inverse.ravel()]
    return score_guesses(
        "graph_matching", guesses, reference.identity, true_identity,
        seconds=time.perf_counter() - start,
        note=f"{len(enc_first)} encoded and {len(ref_nodes)} plaintext nodes",
    )


def _match(enc: _Graph, ref: _Graph, refine_rounds: int, max_anchors: int) -> np.ndarray:
    """Reference node matched to each encoded node (-1 for none)."""
    fe = node_features(enc.sim, enc.threshold)
    fr = node_features(ref.sim, ref.threshold)
    pooled = np.vstack([fe, fr])
    mu, sd = pooled.mean(axis=0), pooled.std(axis=0) + 1e-9
    fe, fr = (fe - mu) / sd, (fr - mu) / sd
    e_nodes = np.flatnonzero((enc.sim >= enc.threshold).sum(axis=1) > 1)  # has a neighbour
    r_nodes = np.flatnonzero((ref.sim >= ref.threshold).sum(axis=1) > 1)
    out = np.full(len(enc.sim), -1, dtype=np.int64)
    if len(e_nodes) == 0 or len(r_nodes) == 0:
        return out
    score = _cosine(fe[e_nodes], fr[r_nodes])
    ea, ra = _mutual_matches(score, e_nodes, r_nodes)
    conf = score[np.searchsorted(e_nodes, ea), np.searchsorted(r_nodes, ra)] if len(ea) else np.zeros(0)
    out[ea] = ra
    all_e, all_r = np.arange(len(enc.sim)), np.arange(len(ref.sim))
    for _ in range(refine_rounds):
        if len(ea) < 3:
            break
        keep = np.argsort(-conf, kind="stable")[:max_anchors]
        ea, ra = ea[keep], ra[keep]
        prof_e = enc.sim[:, ea]
        prof_r = ref.sim[:, ra]
        cost = _sq_distance(prof_e, prof_r)
        ea, ra = _mutual_matches(-cost, all_e, all_r)
        conf = -cost[ea, ra]
        out[:] = -1
        out[ea] = ra
    return out


def _sq_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean squared difference between the rows of a and the rows of b."""
    d = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2 * (a @ b.T)
    return np.maximum(d, 0.0) / a.shape[1]
