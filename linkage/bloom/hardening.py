"""Hardening of record-level filters (issue 7). Identity until the techniques land."""

from __future__ import annotations

import numpy as np

from linkage.schema import HardeningSpec

__all__ = ["harden", "hardened_bits"]


def hardened_bits(spec: HardeningSpec, bits: int) -> int:
    """Length of the filter after hardening."""
    return bits


def harden(filters: np.ndarray, spec: HardeningSpec, project_key: bytes) -> np.ndarray:
    """Apply the configured bit-level hardening to (rows, bits/64) uint64 filters."""
    return filters
