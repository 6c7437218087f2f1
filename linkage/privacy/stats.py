"""Structural statistics of a set of encodings: what an attacker sees before any attack.

* bit-frequency uniformity: how evenly the positions are set across the encodings. Plain
  Bloom filters have busy and quiet positions (frequent tokens); balancing makes the total
  weight constant, diffusion and BLIP flatten the per-position frequencies. Reported as the
  coefficient of variation of the per-position frequencies (0 = perfectly even), their
  range, and the normalised entropy of the frequency distribution (1 = uniform);
* the share of encodings identical to another one (frequency attacks need repeats);
* the number of distinct filter weights (Hamming weights) and their spread: a weight close to
  a function of the number of tokens tells the attacker the length of the value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["EncodingStats", "encoding_stats"]


@dataclass(frozen=True)
class EncodingStats:
    encodings: int
    bits: int
    mean_fill: float  # mean share of bits set
    bit_frequency_cv: float
    bit_frequency_min: float
    bit_frequency_max: float
    bit_frequency_entropy: float  # normalised Shannon entropy of per-position frequencies
    identical_share: float  # encodings equal to at least one other encoding
    distinct_weights: int
    weight_std: float

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def encoding_stats(bits: np.ndarray) -> EncodingStats:
    """Statistics of (n, L) bool encodings."""
    n, width = bits.shape
    freq = bits.mean(axis=0) if n else np.zeros(width)
    mean = float(freq.mean()) if width else 0.0
    cv = float(freq.std() / mean) if mean > 0 else 0.0
    p = freq / freq.sum() if freq.sum() > 0 else np.full(width, 1.0 / width)
    nz = p[p > 0]
    entropy = float(-(nz * np.log(nz)).sum() / np.log(width)) if width > 1 else 1.0
    packed = np.packbits(bits, axis=1)
    view = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, inverse, counts = np.unique(view, return_inverse=True, return_counts=True)
    identical = float((counts[inverse.ravel()] > 1).mean()) if n else 0.0
    weights = bits.sum(axis=1)
    return EncodingStats(
        encodings=n,
        bits=width,
        mean_fill=mean,
        bit_frequency_cv=cv,
        bit_frequency_min=float(freq.min()) if width else 0.0,
        bit_frequency_max=float(freq.max()) if width else 0.0,
        bit_frequency_entropy=entropy,
        identical_share=identical,
        distinct_weights=len(np.unique(weights)),
        weight_std=float(weights.std()) if n else 0.0,
    )
