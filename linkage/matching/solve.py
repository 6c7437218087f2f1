"""Two-party solvers: optimal one-to-one assignment and many-to-many.

Optimal one-to-one maximises the total score of the chosen pairs on the sparse candidate
graph with ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``. That function needs
a *full* matching, which a sparse candidate graph rarely has, so it is solved on the
standard doubled graph, which always has one:

* left nodes: the A records, then a mirror B' of every B record;
* right nodes: the B records, then a mirror A' of every A record;
* edges: (a, b) with cost C - score for every candidate pair, (a, a') and (b', b) with cost
  C ("stay unmatched"), and the mirror (b', a') with cost C of every candidate pair.

Every perfect matching of it has |A| + |B| edges, so adding the constant C (= 2, keeping all
costs positive) to every edge does not change the optimum, and a minimum-cost perfect
matching there is a maximum-score matching of the candidate graph. Isolated pairs are taken
directly and only the rest goes to the solver.

The three-way decision is applied in two stages so that a review-band pair can never displace
a confident match: first the optimum over the pairs at or above ``threshold`` (matches), then
over the pairs in [``possible``, ``threshold``) among the records still unmatched.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from linkage.matching.cluster import Groups, isolated_edges, sort_edges
from linkage.matching.scoring import ScoredPairs

__all__ = ["many_to_many", "max_weight_matching", "optimal_one_to_one"]

_C = 2.0


def max_weight_matching(pairs: ScoredPairs) -> np.ndarray:
    """Mask of the pairs in a maximum-total-score one-to-one matching (a and b disjoint sets)."""
    chosen = isolated_edges(pairs)
    rest = np.flatnonzero(~chosen)
    if len(rest) == 0:
        return chosen
    a_nodes, ia = np.unique(pairs.a[rest], return_inverse=True)
    b_nodes, ib = np.unique(pairs.b[rest], return_inverse=True)
    na, nb = len(a_nodes), len(b_nodes)
    m = len(rest)
    ar_a, ar_b = np.arange(na), np.arange(nb)
    rows = np.concatenate([ia, ar_a, na + ar_b, na + ib])
    cols = np.concatenate([ib, nb + ar_a, ar_b, nb + ia])
    cost = np.concatenate([_C - pairs.score[rest], np.full(na + nb + m, _C)])
    graph = csr_matrix((cost, (rows, cols)), shape=(na + nb, na + nb))
    _, col_of_row = min_weight_full_bipartite_matching(graph)
    partner = col_of_row[:na]
    picked = partner[ia] == ib
    chosen[rest[picked]] = True
    return chosen


def optimal_one_to_one(pairs: ScoredPairs, threshold: float) -> Groups:
    """Optimal matches, then optimal possible matches among the records left unmatched."""
    pairs = sort_edges(pairs)
    strong = pairs.score >= threshold
    first = _subset(pairs, strong)
    matched = _subset(first, max_weight_matching(first))
    weak = _subset(pairs, ~strong)
    free = ~(np.isin(weak.a, matched.a) | np.isin(weak.b, matched.b))
    weak = _subset(weak, free)
    second = _subset(weak, max_weight_matching(weak))
    return Groups.from_pairs(ScoredPairs.concat([matched, second]), threshold)


def many_to_many(pairs: ScoredPairs, threshold: float) -> Groups:
    """Every pair at or above the floor is its own group; a record may be in several."""
    return Groups.from_pairs(pairs, threshold)


def _subset(p: ScoredPairs, mask: np.ndarray) -> ScoredPairs:
    return ScoredPairs(p.a[mask], p.b[mask], p.score[mask])
