"""Groups from scored pairs: greedy agglomerative clustering over any number of parties.

Edges (scored candidate pairs at or above the possible-match threshold) are taken by
descending score, ties broken by the canonical (party, ref) order of their endpoints, and
each merges two clusters with union-find, unless the merged cluster would hold two records
of one party (that constraint is dropped when duplicates are allowed). With two parties and
the constraint this is exactly greedy one-to-one matching.

Three-way decision: the edges at or above ``threshold`` are all processed first; the clusters
they form are the *match* groups. Merging then continues with the edges in
[``possible``, ``threshold``); every cluster that such an edge changed is a *possible* group
(for review), while the match groups inside it stay reported as matches. A record therefore
belongs to at most one match group and at most one possible group. The score of a group is
the score of the last (weakest) edge that formed it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.matching.scoring import ScoredPairs

__all__ = ["Groups", "greedy_clusters", "greedy_pairs", "isolated_edges", "sort_edges"]


@dataclass(frozen=True)
class Groups:
    """Groups in global pool indices: ``members[offsets[g]:offsets[g + 1]]`` (ascending) are
    the records of group g."""

    members: np.ndarray  # int64
    offsets: np.ndarray  # (groups + 1,) int64
    is_match: np.ndarray  # bool: match, else possible
    score: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.score)

    @classmethod
    def from_pairs(cls, pairs: ScoredPairs, threshold: float) -> Groups:
        """One group per pair (a < b)."""
        n = len(pairs)
        return cls(np.column_stack([pairs.a, pairs.b]).reshape(-1),
                   np.arange(0, 2 * n + 1, 2, dtype=np.int64),
                   pairs.score >= threshold, pairs.score.astype(np.float64))

    @classmethod
    def from_lists(cls, members: list[list[int]], is_match: list[bool],
                   scores: list[float]) -> Groups:
        sizes = [len(m) for m in members]
        return cls(np.array(_sorted_flat(members), dtype=np.int64),
                   np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                   np.array(is_match, dtype=bool), np.array(scores, dtype=np.float64))

    @classmethod
    def concat(cls, parts: list[Groups]) -> Groups:
        shifts = np.cumsum([0] + [len(p.members) for p in parts[:-1]])
        return cls(np.concatenate([p.members for p in parts]),
                   np.concatenate([[0]] + [p.offsets[1:] + k for p, k in
                                           zip(parts, shifts, strict=True)]).astype(np.int64),
                   np.concatenate([p.is_match for p in parts]),
                   np.concatenate([p.score for p in parts]))

    def ordered(self) -> Groups:
        """Canonical order: matches first, then by first member, then by second member
        (unique: clusters of one decision are disjoint, and pairs differ in a member)."""
        first = self.members[self.offsets[:-1]]
        second = self.members[self.offsets[:-1] + 1]
        order = np.lexsort((second, first, ~self.is_match))
        sizes = np.diff(self.offsets)[order]
        starts = self.offsets[:-1][order]
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        members = self.members[np.repeat(starts, sizes) + within]
        return Groups(members, np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                      self.is_match[order], self.score[order])


def _sorted_flat(members: list[list[int]]) -> list[int]:
    return [x for m in members for x in sorted(m)]


def sort_edges(pairs: ScoredPairs) -> ScoredPairs:
    """Edges by descending score, then by (a, b): the canonical, deterministic order."""
    order = canonical_order(pairs.a, pairs.b, pairs.score)
    return ScoredPairs(pairs.a[order], pairs.b[order], pairs.score[order])


def isolated_edges(pairs: ScoredPairs) -> np.ndarray:
    """Mask of edges whose two endpoints have no other edge (they always form a pair)."""
    if len(pairs) == 0:
        return np.zeros(0, dtype=bool)
    nodes, inverse = np.unique(np.concatenate([pairs.a, pairs.b]), return_inverse=True)
    degree = np.bincount(inverse, minlength=len(nodes))
    ia, ib = inverse[: len(pairs)], inverse[len(pairs):]
    return (degree[ia] == 1) & (degree[ib] == 1)


class _UnionFind:
    def __init__(self, n: int, party_bits: list[int]) -> None:
        self.parent = list(range(n))
        self.parties = party_bits
        self.score = [1.0] * n
        self.possible = [False] * n

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def groups(self, nodes: range) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for x in nodes:
            out.setdefault(self.find(x), []).append(x)
        return {r: m for r, m in out.items() if len(m) > 1}


def greedy_clusters(pairs: ScoredPairs, party_of: np.ndarray, threshold: float,
                    allow_duplicates: bool = False) -> Groups:
    """Greedy agglomerative clustering of ``pairs`` (all at or above the floor).

    The groups come in no particular order (``Groups.ordered`` gives the canonical one).
    With at most two parties and the party constraint every cluster is a pair, and the
    vectorised greedy one-to-one matching below gives the same groups without union-find."""
    if not allow_duplicates and len(np.unique(party_of)) <= 2:
        return greedy_pairs(pairs, party_of, threshold)
    return _greedy_union_find(pairs, party_of, threshold, allow_duplicates)


def greedy_pairs(pairs: ScoredPairs, party_of: np.ndarray, threshold: float) -> Groups:
    """Greedy one-to-one matching of two parties: edges in the canonical order, each taken
    when neither endpoint is taken yet. Same groups as the union-find clustering with the
    party constraint: a pair holds one record of each party, so it can never merge again.

    Edges are taken in rounds of "locally dominant" edges (first, in the canonical order,
    among the remaining edges of both endpoints): greedy takes every such edge, and every
    other edge of its endpoints comes later and is refused, so greedy on the rest of the
    graph (endpoints of taken edges removed) decides all remaining edges. A long chain of
    ever weaker edges needs one round per edge, so once rounds stop paying off the rest is
    taken in a plain loop. Memory: a few arrays of the edges' length, no Python objects."""
    a, b, score = pairs.a, pairs.b, pairs.score
    cross = party_of[a] != party_of[b]  # same-party edges are always refused
    if not cross.all():
        a, b, score = a[cross], b[cross], score[cross]
    del cross, pairs
    n = len(party_of)
    small = np.int32 if max(n, len(a)) < np.iinfo(np.int32).max else np.int64
    order = canonical_order(a, b, score).astype(small)
    taken = order[_greedy_matching(a[order].astype(small), b[order].astype(small), n)]
    del order
    return Groups.from_pairs(ScoredPairs(a[taken], b[taken], score[taken]), threshold)


def canonical_order(a: np.ndarray, b: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The permutation of ``sort_edges``: descending score, then (a, b). Pairs usually come
    sorted by (a, b) already (blocking emits them so), and then one stable sort by score
    does, several times faster than the three-key lexsort."""
    if len(a) > 1 and not np.all((a[1:] > a[:-1]) | ((a[1:] == a[:-1]) & (b[1:] > b[:-1]))):
        return np.lexsort((b, a, -score))
    return np.argsort(-score, kind="stable")


# Below this many remaining edges, or when a round takes less than 1/_MIN_ROUND_SHARE of
# them, the matching is finished in a plain loop.
_LOOP_BELOW = 1 << 14
_MIN_ROUND_SHARE = 64


def _greedy_matching(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Mask of the edges (a[k], b[k]) of the greedy matching, edges in priority order."""
    m = len(a)
    chosen = np.zeros(m, dtype=bool)
    used = np.zeros(n, dtype=bool)
    small = np.int32 if m < np.iinfo(np.int32).max else np.int64
    first = np.full(n, m, dtype=small)  # per node: position of its first remaining edge
    pos = np.arange(m, dtype=small)
    ra, rb = a, b
    while len(pos) > _LOOP_BELOW:
        np.minimum.at(first, ra, pos)
        np.minimum.at(first, rb, pos)
        dom = (first[ra] == pos) & (first[rb] == pos)
        first[ra] = m
        first[rb] = m
        chosen[pos[dom]] = True
        used[ra[dom]] = True
        used[rb[dom]] = True
        took = int(np.count_nonzero(dom))
        keep = ~(used[ra] | used[rb])
        pos, ra, rb = pos[keep], ra[keep], rb[keep]
        if took * _MIN_ROUND_SHARE < len(pos):
            break
    if len(pos):
        free = bytearray((~used).view(np.uint8).tobytes())
        picked = []
        for k, x, y in zip(pos.tolist(), ra.tolist(), rb.tolist(), strict=True):
            if free[x] and free[y]:
                free[x] = free[y] = 0
                picked.append(k)
        chosen[np.array(picked, dtype=np.int64)] = True
    return chosen


def _greedy_union_find(pairs: ScoredPairs, party_of: np.ndarray, threshold: float,
                       allow_duplicates: bool = False) -> Groups:
    """Greedy agglomerative clustering of ``pairs`` with union-find (any number of parties)."""
    pairs = sort_edges(pairs)
    lone = isolated_edges(pairs)
    isolated = Groups.from_pairs(
        ScoredPairs(pairs.a[lone], pairs.b[lone], pairs.score[lone]), threshold)
    rest = ~lone
    a, b, s = pairs.a[rest], pairs.b[rest], pairs.score[rest]
    del pairs, lone, rest  # the sorted copy: tens of millions of edges at 10^6 records
    if len(a) == 0:
        return isolated
    nodes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = inverse[: len(a)], inverse[len(a):]
    uf = _UnionFind(len(nodes), [1 << int(p) for p in party_of[nodes].tolist()])
    n_match = int(np.count_nonzero(s >= threshold))
    scores = s
    found: list[list[int]] = []
    kinds: list[bool] = []
    group_scores: list[float] = []
    _merge(uf, ia[:n_match], ib[:n_match], scores[:n_match], allow_duplicates, possible=False)
    for root, members in uf.groups(range(len(nodes))).items():
        found.append(members)
        kinds.append(True)
        group_scores.append(uf.score[root])
    _merge(uf, ia[n_match:], ib[n_match:], scores[n_match:], allow_duplicates, possible=True)
    for root, members in uf.groups(range(len(nodes))).items():
        if uf.possible[root]:
            found.append(members)
            kinds.append(False)
            group_scores.append(uf.score[root])
    node_ids = nodes.tolist()
    clusters = Groups.from_lists([[node_ids[x] for x in m] for m in found], kinds, group_scores)
    return Groups.concat([isolated, clusters])


# Edges are turned into Python lists this many at a time (a list of ints costs ~36 bytes per
# element: tens of millions of edges at once would cost gigabytes).
_MERGE_CHUNK = 1 << 20


def _merge(uf: _UnionFind, ia: np.ndarray, ib: np.ndarray, scores: np.ndarray,
           allow_duplicates: bool, *, possible: bool) -> None:
    for start in range(0, len(ia), _MERGE_CHUNK):
        stop = start + _MERGE_CHUNK
        _merge_lists(uf, ia[start:stop].tolist(), ib[start:stop].tolist(),
                     scores[start:stop].tolist(), allow_duplicates, possible=possible)


def _merge_lists(uf: _UnionFind, ia: list[int], ib: list[int], scores: list[float],
                 allow_duplicates: bool, *, possible: bool) -> None:
    find, parent, parties = uf.find, uf.parent, uf.parties
    for x, y, score in zip(ia, ib, scores, strict=True):
        rx, ry = find(x), find(y)
        if rx == ry or (not allow_duplicates and parties[rx] & parties[ry]):
            continue
        # the smaller root id survives, so the structure is independent of edge direction
        if ry < rx:
            rx, ry = ry, rx
        parent[ry] = rx
        parties[rx] |= parties[ry]
        uf.score[rx] = score
        uf.possible[rx] = possible or uf.possible[rx] or uf.possible[ry]
