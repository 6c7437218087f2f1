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

__all__ = ["Groups", "greedy_clusters", "isolated_edges", "sort_edges"]


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
    order = np.lexsort((pairs.b, pairs.a, -pairs.score))
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
    """Greedy agglomerative clustering of ``pairs`` (all at or above the floor)."""
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
