"""Threshold suggestion without ground truth: a two-component beta mixture fitted by EM.

The best scores of all candidate pairs form a mixture of non-matches (low scores) and
matches (high scores). A two-component beta mixture is fitted to their histogram by EM
(E-step with exact per-bin probabilities from the beta CDF, M-step by the method of moments,
as in Schröder & Rahmann 2017), starting from Otsu's split of the histogram, so it works on
any number of pairs at the cost of the histogram only.

From the fitted model, for a threshold t:

* posterior(t) = pi1 f1(t) / (pi0 f0(t) + pi1 f1(t)), the probability that a pair scoring t
  is a match;
* estimated precision = pi1 S1(t) / (pi0 S0(t) + pi1 S1(t)) with S the survival function
  (the expected share of matches among pairs scoring at least t);
* estimated recall = S1(t), the share of the matches *among the candidate pairs* scoring at
  least t (matches lost in blocking are invisible here).

The suggested match threshold is the lowest score between the two component means where the
posterior reaches ``match_posterior`` (0.5: the Bayes decision, which is the valley of the
histogram when the modes are well separated); the suggested possible-match threshold is where
it reaches ``possible_posterior`` (0.05 by default).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, betaln

__all__ = [
    "BetaComponent",
    "MixtureSide",
    "ScoreHistogram",
    "ThresholdSuggestion",
    "histogram_counts",
    "suggest_threshold",
]

DEFAULT_BINS = 200
_SHORT_RUN = 25  # EM iterations from each starting split before the best is pursued
_EPS = 1e-9


@dataclass
class ScoreHistogram:
    """Counts of scores in equal bins over [0, 1]; the last bin includes 1.0."""

    edges: np.ndarray  # (bins + 1,) float64
    counts: np.ndarray  # (bins,) int64

    @classmethod
    def empty(cls, bins: int = DEFAULT_BINS) -> ScoreHistogram:
        return cls(np.linspace(0.0, 1.0, bins + 1), np.zeros(bins, dtype=np.int64))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def add(self, scores: np.ndarray) -> None:
        """Add scores in place (the histogram of all candidate pairs is built chunk by chunk)."""
        self.counts += histogram_counts(scores, len(self.counts))

    def count_at_least(self, t: float) -> int:
        """Pairs in the bins at or above t (exact when t is a bin edge)."""
        return int(self.counts[np.searchsorted(self.edges[:-1], t - 1e-12):].sum())


def histogram_counts(scores: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    idx = np.clip((np.asarray(scores) * bins).astype(np.int64), 0, bins - 1)
    return np.bincount(idx, minlength=bins).astype(np.int64)


@dataclass(frozen=True)
class BetaComponent:
    weight: float
    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def variance(self) -> float:
        total = self.alpha + self.beta
        return self.alpha * self.beta / (total**2 * (total + 1))

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        return betainc(self.alpha, self.beta, np.clip(x, 0.0, 1.0))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(x, _EPS, 1 - _EPS)
        log = (self.alpha - 1) * np.log(x) + (self.beta - 1) * np.log1p(-x)
        return np.exp(log - betaln(self.alpha, self.beta))


@dataclass(frozen=True)
class MixtureSide:
    """One side of the fitted model (non-matches or matches): one or more beta components.

    ``weight`` is the side's share of all candidate pairs; ``cdf`` and ``pdf`` are those of
    the side's own (normalised) distribution, so ``weight * (1 - cdf(t))`` is the share of
    all pairs that are on this side and score at least t.
    """

    components: tuple[BetaComponent, ...]

    @property
    def weight(self) -> float:
        return sum(c.weight for c in self.components)

    @property
    def mean(self) -> float:
        return sum(c.weight * c.mean for c in self.components) / max(self.weight, _EPS)

    @property
    def variance(self) -> float:
        m = self.mean
        second = sum(c.weight * (c.variance + (c.mean - m) ** 2) for c in self.components)
        return second / max(self.weight, _EPS)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        return sum(c.weight * c.cdf(x) for c in self.components) / max(self.weight, _EPS)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return sum(c.weight * c.pdf(x) for c in self.components) / max(self.weight, _EPS)

    def share_at_least(self, t: float) -> float:
        """Share of all candidate pairs that are on this side and score at least t."""
        return float(self.weight * (1 - self.cdf(t)))


@dataclass(frozen=True)
class ThresholdSuggestion:
    """A suggested pair of thresholds and what the fitted model expects of them."""

    threshold: float
    possible_threshold: float
    estimated_precision: float
    estimated_recall: float
    possible_estimated_precision: float
    possible_estimated_recall: float
    estimated_matches: float  # expected number of matching pairs among the candidates
    non_match: MixtureSide
    match: MixtureSide
    iterations: int
    converged: bool
    bimodal: bool  # the fitted density has a valley between non-match and match means
    bic: float
    method: str = "beta-mixture-em"

    @property
    def reliable(self) -> bool:
        """Worth quoting: converged, two real modes, and some weight on each side."""
        return (self.converged and self.bimodal
                and min(self.match.weight, self.non_match.weight) > 1e-4)

    def precision_at(self, t: float) -> float:
        """Expected share of matches among the candidate pairs scoring at least t."""
        return _precision_recall(self.non_match, self.match, t)[0]

    def recall_at(self, t: float) -> float:
        """Expected share of the matches among the candidates that score at least t."""
        return _precision_recall(self.non_match, self.match, t)[1]


# --- fitting ------------------------------------------------------------------------------


def _otsu(centers: np.ndarray, counts: np.ndarray) -> float:
    w = counts / counts.sum()
    w0 = np.cumsum(w)
    mu = np.cumsum(w * centers)
    between = (mu[-1] * w0 - mu) ** 2 / np.maximum(w0 * (1 - w0), _EPS)
    return float(centers[int(np.argmax(between[:-1]))])


def _moments(centers: np.ndarray, weights: np.ndarray, var_floor: float) -> tuple[float, float]:
    total = max(weights.sum(), _EPS)
    mean = float(np.clip((weights * centers).sum() / total, 1e-4, 1 - 1e-4))
    var = float((weights * (centers - mean) ** 2).sum() / total) + var_floor
    var = min(var, mean * (1 - mean) * 0.999)
    common = mean * (1 - mean) / var - 1
    return mean * common, (1 - mean) * common


def _start_splits(centers: np.ndarray, counts: np.ndarray) -> list[float]:
    """Initial splits for EM: Otsu's, the deepest valley of the log histogram, and upper
    quantiles (a small match mode next to a huge non-match mode defeats Otsu alone)."""
    cum = np.cumsum(counts) / counts.sum()
    splits = [_otsu(centers, counts)]
    splits += [float(centers[min(int(np.searchsorted(cum, q)), len(centers) - 1)])
               for q in (0.5, 0.9, 0.99, 0.999)]
    smooth = np.convolve(np.log1p(counts), np.ones(5) / 5, mode="same")
    occupied = np.flatnonzero(counts)
    inner = np.arange(occupied[0] + 1, occupied[-1])
    if len(inner):
        splits.append(float(centers[inner[np.argmin(smooth[inner])]]))
    return sorted(set(splits))


@dataclass(frozen=True)
class _Bins:
    """The occupied bins of a histogram: EM only needs these, and computing the beta CDF
    at their edges alone is what keeps a fit fast on sparse histograms."""

    centers: np.ndarray
    counts: np.ndarray
    edges: np.ndarray  # distinct edges of the occupied bins
    lo: np.ndarray  # index into edges of each bin's lower edge
    hi: np.ndarray
    var_floor: float  # variance of a uniform spread over one bin

    @classmethod
    def of(cls, hist: ScoreHistogram) -> _Bins:
        occupied = np.flatnonzero(hist.counts)
        lo, hi = hist.edges[occupied], hist.edges[occupied + 1]
        edges, inverse = np.unique(np.concatenate([lo, hi]), return_inverse=True)
        return cls((lo + hi) / 2, hist.counts[occupied].astype(np.float64), edges,
                   inverse[: len(lo)], inverse[len(lo):],
                   float(np.diff(hist.edges).mean() ** 2 / 12))

    def probabilities(self, comp: BetaComponent) -> np.ndarray:
        cdf = comp.cdf(self.edges)
        return np.maximum(cdf[self.hi] - cdf[self.lo], 1e-300)


@dataclass(frozen=True)
class _Fit:
    components: list[BetaComponent]  # ascending mean
    loglik: float
    resp: np.ndarray  # (k, occupied bins)
    iterations: int
    converged: bool


def _em(bins: _Bins, resp: np.ndarray, max_iter: int, tol: float) -> _Fit:
    """EM for a k-component beta mixture from the responsibilities ``resp`` (k, bins)."""
    counts = bins.counts
    prev = -np.inf
    comps: list[BetaComponent] = []
    loglik = -np.inf
    for it in range(1, max_iter + 1):
        comps = []
        for r in resp:
            a, b = _moments(bins.centers, counts * r, bins.var_floor)
            comps.append(BetaComponent(float((counts * r).sum() / counts.sum()), a, b))
        dens = np.stack([c.weight * bins.probabilities(c) for c in comps])
        mix = dens.sum(axis=0)
        resp = dens / mix
        loglik = float((counts * np.log(mix)).sum())
        if abs(loglik - prev) <= tol * max(1.0, abs(loglik)):
            return _Fit(comps, loglik, resp, it, True)
        prev = loglik
    return _Fit(comps, loglik, resp, max_iter, False)


def _fit(hist: ScoreHistogram, k: int, max_iter: int, tol: float) -> _Fit | None:
    """A short EM run from every choice of k - 1 starting splits; the most likely one is
    run to convergence."""
    centers = (hist.edges[:-1] + hist.edges[1:]) / 2
    bins = _Bins.of(hist)
    best: _Fit | None = None
    for splits in itertools.combinations(_start_splits(centers, hist.counts), k - 1):
        label = np.searchsorted(np.array(splits), bins.centers)
        resp = np.stack([(label == j).astype(np.float64) for j in range(k)])
        if (resp @ bins.counts == 0).any():
            continue
        fit = _em(bins, resp, _SHORT_RUN, tol)
        if best is None or fit.loglik > best.loglik:
            best = fit
    if best is None:
        return None
    if not best.converged:
        more = _em(bins, best.resp, max_iter, tol)
        best = _Fit(more.components, more.loglik, more.resp,
                    best.iterations + more.iterations, more.converged)
    order = np.argsort([c.mean for c in best.components])
    return _Fit([best.components[i] for i in order], best.loglik, best.resp[order],
                best.iterations, best.converged)


def _bic(fit: _Fit, n: float) -> float:
    params = 3 * len(fit.components) - 1
    return -2 * fit.loglik + params * np.log(max(n, 1.0))


def _separation(non_match: MixtureSide, match: MixtureSide) -> float:
    """Distance of the two sides' means in units of their pooled standard deviation."""
    return (match.mean - non_match.mean) / np.sqrt((non_match.variance + match.variance) / 2)


def _split(fit: _Fit) -> tuple[MixtureSide, MixtureSide]:
    """Which components are matches: of the cuts between components sorted by mean, the one
    whose two sides are the most separated. With three components that is either
    (non-match, near-miss | match) or (non-match | broad match, identical encodings)."""
    comps = fit.components
    cuts = [(MixtureSide(tuple(comps[:c])), MixtureSide(tuple(comps[c:])))
            for c in range(1, len(comps))]
    return max(cuts, key=lambda sides: _separation(*sides))


def _precision_recall(non_match: MixtureSide, match: MixtureSide,
                      t: float) -> tuple[float, float]:
    s0, s1 = non_match.share_at_least(t), match.share_at_least(t)
    return (s1 / (s0 + s1) if s0 + s1 > 0 else 1.0), s1 / max(match.weight, _EPS)


def _crossing(non_match: MixtureSide, match: MixtureSide, grid: np.ndarray,
              level: float) -> float:
    m = match.weight * match.pdf(grid)
    post = m / np.maximum(m + non_match.weight * non_match.pdf(grid), 1e-300)
    hit = np.flatnonzero(post >= level)
    return float(grid[hit[0]]) if len(hit) else float(grid[-1])


def suggest_threshold(hist: ScoreHistogram, *, match_posterior: float = 0.5,
                      possible_posterior: float = 0.05, max_iter: int = 1000,
                      tol: float = 1e-8) -> ThresholdSuggestion | None:
    """Fit the mixture to ``hist``; None when there are too few scores to fit two modes.

    Mixtures of two and of three components are fitted and the one with the lower BIC is
    kept. A third component either absorbs the heavy right tail of non-matches that look
    alike (same blocking key, similar names), which a single beta would hand to the match
    side, or the spike of identical encodings at 1.0 next to the broader match mode; the
    components are split into the non-match and match sides that are furthest apart.
    """
    if hist.total < 20 or np.count_nonzero(hist.counts) < 3:
        return None
    fits = [f for f in (_fit(hist, k, max_iter, tol) for k in (2, 3)) if f is not None]
    if not fits:
        return None
    fit = min(fits, key=lambda f: _bic(f, hist.total))
    non_match, match = _split(fit)
    grid = np.arange(np.floor(non_match.mean * 1000), np.ceil(match.mean * 1000) + 1) / 1000
    grid = np.round(grid[(grid > 0) & (grid <= 1)], 3)
    if len(grid) == 0:
        grid = np.array([min(max(match.mean, 1e-3), 1.0)])
    t = _crossing(non_match, match, grid, match_posterior)
    tp = min(_crossing(non_match, match, grid, possible_posterior), t)
    density = non_match.weight * non_match.pdf(grid) + match.weight * match.pdf(grid)
    bimodal = len(density) > 2 and bool(density[1:-1].min() < min(density[0], density[-1]))
    precision, recall = _precision_recall(non_match, match, t)
    p_precision, p_recall = _precision_recall(non_match, match, tp)
    return ThresholdSuggestion(
        threshold=t,
        possible_threshold=tp,
        estimated_precision=precision,
        estimated_recall=recall,
        possible_estimated_precision=p_precision,
        possible_estimated_recall=p_recall,
        estimated_matches=match.weight * hist.total,
        non_match=non_match,
        match=match,
        iterations=fit.iterations,
        converged=fit.converged,
        bimodal=bimodal,
        bic=_bic(fit, hist.total),
    )
