"""What a long-running process (the office app) computed, kept in memory for the next ask.

Each value is kept under a key with the stamp of what it was computed from (a file's size
and modification time, a ledger's fingerprint): asked for again with the same stamp it is
given back, with another stamp it is computed anew. The values together stay under a limit
(each weighs ``weight(value)``), the one unused longest dropped first; the one just asked
for is always kept. Pages run in several threads at once: a value asked for by two of them
at once is computed once, the second waiting for the first (an officer who presses reload
during a 20-second check does not start a second one).

functools.lru_cache keys on the arguments only (no stamp, no weight, and two callers at
once both compute), cachetools has no waiting either, hence this small class.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def file_stamp(path: Path | None) -> tuple[int, int] | None:
    """Return what tells a file's present content, its size and modification time (None
    when there is no such file): the stamp of a value read from it."""
    try:
        status = path.stat() if path is not None else None
    except OSError:
        return None
    return None if status is None else (status.st_size, status.st_mtime_ns)


class Kept(Generic[_K, _V]):
    """Values by key, each with the stamp it was computed for; at most ``limit`` in weight."""

    def __init__(self, limit: int, weight: Callable[[_V], int] = lambda _: 1) -> None:
        self._limit = limit
        self._weight = weight
        self._values: OrderedDict[_K, tuple[Hashable, _V]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()  # over _values and _total, never while computing
        self._making: dict[_K, threading.Lock] = {}  # one computation of a key at a time
        self._behind: set[_K] = set()  # keys being computed by a thread of ``soon``
        self._failed: dict[_K, tuple[Hashable, BaseException]] = {}  # what ``soon``'s raised

    @property
    def limit(self) -> int:
        return self._limit

    def get(self, key: _K, stamp: Hashable, make: Callable[[], _V]) -> _V:
        """Return the value kept for ``key`` if it was computed for ``stamp``; else
        ``make()``, kept. What ``make`` raises is raised and nothing is kept."""
        found = self._found(key, stamp)
        if found is not None:
            return found[0]
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:  # another thread computing this key: wait for it, then take its value
            try:
                found = self._found(key, stamp)
                if found is not None:
                    return found[0]
                value = make()
                self._keep(key, stamp, value)
                return value
            finally:
                with self._lock:  # a thread still waiting on it finds the value kept
                    if self._making.get(key) is making:
                        del self._making[key]

    def soon(self, key: _K, stamp: Hashable, make: Callable[[], _V]) -> _V | None:
        """Return the value kept for ``key`` if it was computed for ``stamp``; else None,
        computing it in a thread of its own (one per key at a time) for a later ask. What
        ``make`` raised there is raised to the next ask for that stamp, once (the ask after
        computes again)."""
        found = self._found(key, stamp)
        if found is not None:
            return found[0]
        with self._lock:
            failed = self._failed.pop(key, None)
            if failed is not None and failed[0] == stamp:
                raise failed[1]
            if key in self._behind:
                return None
            self._behind.add(key)

        def compute() -> None:
            try:
                self.get(key, stamp, make)
            except BaseException as exc:  # noqa: BLE001 — handed to the next ask
                with self._lock:  # (without its frames: they may hold what make read)
                    self._failed[key] = (stamp, exc.with_traceback(None))
            finally:
                with self._lock:
                    self._behind.discard(key)

        threading.Thread(target=compute, name="kept-soon", daemon=True).start()
        return None

    def _found(self, key: _K, stamp: Hashable) -> tuple[_V] | None:
        with self._lock:
            kept = self._values.get(key)
            if kept is None or kept[0] != stamp:
                return None
            self._values.move_to_end(key)
            return (kept[1],)

    def _keep(self, key: _K, stamp: Hashable, value: _V) -> None:
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._total -= self._weight(old[1])
            self._values[key] = (stamp, value)
            self._total += self._weight(value)
            while self._total > self.limit and len(self._values) > 1:
                self._total -= self._weight(self._values.popitem(last=False)[1][1])
