"""Small array helpers shared by the matching modules."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

__all__ = ["map_ordered", "unique_sorted"]

T = TypeVar("T")
R = TypeVar("R")


def map_ordered(fn: Callable[[T], R], items: Iterable[T], threads: int) -> Iterator[R]:
    """``fn`` over ``items`` on ``threads`` worker threads, results in input order.

    At most 2 x ``threads`` items are in flight, so memory stays bounded however many items
    there are. numpy and the C kernels release the GIL, so the threads run in parallel.
    """
    threads = max(1, threads)
    with ThreadPoolExecutor(max_workers=threads) as ex:
        window: deque[Future[R]] = deque()
        for item in items:
            window.append(ex.submit(fn, item))
            if len(window) >= 2 * threads:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def unique_sorted(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array.

    Same result as ``np.unique(x)``, which in numpy >= 2.3 takes a hash-table path that is
    two orders of magnitude slower on millions of int64 codes than a SIMD sort.
    """
    y = np.sort(x)
    if len(y) < 2:
        return y
    keep = np.empty(len(y), dtype=bool)
    keep[0] = True
    np.not_equal(y[1:], y[:-1], out=keep[1:])
    return y[keep]
