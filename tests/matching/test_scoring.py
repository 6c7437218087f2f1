"""Best-variant scoring and field weighting against a pure-Python reference."""

from __future__ import annotations

import random

import numpy as np
import pytest

from linkage.errors import MatchingError
from linkage.matching import BlockingConfig, MatchConfig, link
from linkage.matching.pool import build_pool
from linkage.matching.scoring import Scorer, expand_variants


def dice(a: set[int], b: set[int]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def reference_score(va, vb, metric, fields_a=None, fields_b=None, weights=None) -> float:
    """Best over variant pairs; with weights, the weighted mean over fields not empty on
    both sides."""
    sim = dice if metric == "dice" else jaccard
    best = 0.0
    for x in range(len(va)):
        for y in range(len(vb)):
            if weights is None:
                s = sim(va[x], vb[y])
            else:
                num = den = 0.0
                for f, w in weights.items():
                    fa, fb = fields_a[f][x], fields_b[f][y]
                    if fa or fb:
                        num += w * sim(fa, fb)
                        den += w
                s = num / den if den else 0.0
            best = max(best, s)
    return best


def random_party(rng: random.Random, prefix: str, n: int, bits: int, field_bits: int):
    variants, fields = [], {"name": [], "dob": []}
    for _ in range(n):
        k = rng.randint(1, 3)
        variants.append([set(rng.sample(range(bits), rng.randint(0, 40))) for _ in range(k)])
        for f in fields:
            fields[f].append([set(rng.sample(range(field_bits), rng.choice([0, 3, 10])))
                              for _ in range(k)])
    refs = [f"{prefix}{i}" for i in range(n)]
    return refs, variants, fields


@pytest.mark.parametrize("metric", ["dice", "jaccard"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_pair_scores_as_its_best_variant_pair(make_encoded, metric, seed, weighted):
    rng = random.Random(seed)
    raw = {p: random_party(rng, p, 7, 128, 64) for p in ("x", "y", "z")}
    parties = {p: make_encoded(refs, variants, fields=fields)
               for p, (refs, variants, fields) in raw.items()}
    weights = {"name": 3.0, "dob": 1.0} if weighted else None
    config = MatchConfig(threshold=0.9, possible_threshold=0.5, metric=metric,
                         field_weights=weights, blocking=BlockingConfig(method="none"))
    result = link(parties, config, keep_candidates=True)
    c = result.candidates
    assert len(c) == result.candidate_pairs == 3 * 7 * 7
    for k in range(len(c)):
        pa, pb = result.parties[c.party_a[k]], result.parties[c.party_b[k]]
        ia, ib = int(c.index_a[k]), int(c.index_b[k])
        expected = reference_score(raw[pa][1][ia], raw[pb][1][ib], metric,
                                   {f: v[ia] for f, v in raw[pa][2].items()},
                                   {f: v[ib] for f, v in raw[pb][2].items()}, weights)
        assert c.score[k] == pytest.approx(expected, abs=1e-12)


def test_comparisons_count_variant_pairs(make_encoded):
    a = make_encoded(["a1", "a2"], [[{1}, {2}, {3}], [{4}]])
    b = make_encoded(["b1"], [[{1}, {5}]])
    result = link({"a": a, "b": b}, MatchConfig(blocking=BlockingConfig(method="none")))
    assert result.candidate_pairs == 2
    assert result.comparisons == 3 * 2 + 1 * 2


def test_expand_variants_lists_every_row_pair():
    offsets = np.array([0, 2, 3, 6])  # record 0: rows 0-1, record 1: row 2, record 2: rows 3-5
    vp = expand_variants(offsets, np.array([0, 1]), np.array([2, 2]))
    pairs = list(zip(vp.row_a.tolist(), vp.row_b.tolist(), strict=True))
    assert pairs == [(0, 3), (0, 4), (0, 5), (1, 3), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5)]
    assert vp.start.tolist() == [0, 6]


def test_field_empty_on_both_sides_is_left_out(make_encoded):
    # name identical, dob missing on both sides: the score is the name score alone (1.0),
    # not diluted by the missing field.
    a = make_encoded(["a"], [[{1, 2}]], fields={"name": [[{1, 2, 3}]], "dob": [[set()]]})
    b = make_encoded(["b"], [[{1, 2}]], fields={"name": [[{1, 2, 3}]], "dob": [[set()]]})
    pool = build_pool({"a": a, "b": b}, fields=["dob", "name"])
    scores, _ = Scorer(pool, "dice", {"name": 1.0, "dob": 5.0}).score(np.array([0]),
                                                                       np.array([1]))
    assert scores.tolist() == [1.0]
    # missing on one side only counts as a disagreement
    c = make_encoded(["c"], [[{1, 2}]], fields={"name": [[{1, 2, 3}]], "dob": [[{7}]]})
    pool = build_pool({"a": a, "c": c}, fields=["dob", "name"])
    scores, _ = Scorer(pool, "dice", {"name": 1.0, "dob": 5.0}).score(np.array([0]),
                                                                       np.array([1]))
    assert scores.tolist() == [pytest.approx(1.0 / 6.0)]


def test_field_weights_need_the_field_in_every_party(make_encoded):
    a = make_encoded(["a"], [[{1}]], fields={"name": [[{1}]]})
    b = make_encoded(["b"], [[{1}]])
    with pytest.raises(MatchingError, match="party 'b' has no field-level filter 'name'"):
        link({"a": a, "b": b}, MatchConfig(field_weights={"name": 1.0}))
