"""Small array helpers shared by the matching modules."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from linkage.arrays import unique_sorted

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
