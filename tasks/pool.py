"""Worker processes for the CPU-bound stages, with a timeout that really stops a call.

Only processes here; what a stage makes of a `TIMED_OUT` item is its own policy
(`tasks.common.timed_out`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import active_children, get_context
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from multiprocessing.queues import SimpleQueue

T = TypeVar("T")
R = TypeVar("R")


class TimedOut:
    """Stands in for the result of an item that alone took longer than the stage may."""

    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT = TimedOut()


def _report_pid(started: SimpleQueue[int]) -> None:
    """Each worker's first act: tell its pool who it is, so the pool can stop it later."""
    started.put(os.getpid())


class WorkerPool(ProcessPoolExecutor):
    """A spawn-started process pool that knows its own workers.

    Python 3.11 has no public way to stop a pool's workers mid-call, and several pools may
    run side by side, so each worker reports its PID through this pool's own queue.
    """

    def __init__(self, processes: int) -> None:
        context = get_context("spawn")
        self._started: SimpleQueue[int] = context.SimpleQueue()
        self._started_lock = threading.Lock()
        self._worker_pids: set[int] = set()
        super().__init__(
            processes, mp_context=context, initializer=_report_pid, initargs=(self._started,)
        )

    def broken(self) -> bool:
        """A worker died (the pool takes no more work)."""
        return bool(self._broken)

    def stop_workers(self) -> None:
        """Kill this pool's live workers (and no other process), whatever they are running.

        Only live children of this process are matched, so a reused PID is never hit.
        """
        with self._started_lock:  # one reader at a time: `empty` then `get` must not race
            while not self._started.empty():
                self._worker_pids.add(self._started.get())
            pids = set(self._worker_pids)
        for process in active_children():
            if process.pid in pids:
                process.kill()


_pools: dict[int, WorkerPool] = {}
_pools_lock = threading.Lock()


def worker_pool(processes: int) -> WorkerPool:
    """Processes for the CPU-bound stages (cleaning, language detection, NER).

    One pool per flow process, shared by all its tasks; each worker loads what it needs (the
    spaCy models, langdetect's profiles) once and keeps it. A pool that lost a worker (even
    while idle, as in a long-lived worker process), or whose workers were stopped, is replaced
    by the next call.
    """
    with _pools_lock:
        pool = _pools.get(processes)
        if pool is not None and pool.broken():
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        if pool is None:
            pool = _pools[processes] = WorkerPool(processes)
        return pool


def _discard(pool: WorkerPool, *, kill: bool) -> None:
    """Forget `pool` (the next `worker_pool` call starts a new one); `kill` stops its workers
    mid-call: the only way to stop a call that runs too long (other tasks' calls in it fail,
    and Prefect retries them)."""
    with _pools_lock:
        for processes, known in list(_pools.items()):
            if known is pool:
                del _pools[processes]
    if kill:
        pool.stop_workers()
    pool.shutdown(wait=False, cancel_futures=True)


def _run_chunks(
    work: Callable[[list[T]], list[R]], chunks: list[list[T]], processes: int, timeout: float
) -> list[list[R] | None]:
    """Each chunk's results, or None for a chunk still running after `timeout` seconds."""
    pool = worker_pool(processes)
    try:
        futures = [pool.submit(work, chunk) for chunk in chunks]
        done, late = wait(futures, timeout=timeout)
        results = [future.result() if future in done else None for future in futures]
    except BrokenProcessPool:
        _discard(pool, kill=False)  # a worker died: this attempt fails, Prefect retries it
        raise
    if late:
        _discard(pool, kill=True)
    return results


def in_processes(
    work: Callable[[list[T]], list[R]], items: list[T], processes: int, timeout: float
) -> list[R | TimedOut]:
    """`work(items)`, the items shared out in order over `processes` worker processes.

    A share still running after `timeout` seconds is stopped and its items are done again one
    by one, so a single pathological item costs one `TIMED_OUT`, not the batch. With
    `processes` 0 the work runs here (a Dask worker's own process), without a timeout.
    """
    if processes < 1 or not items:
        return list(work(items))
    size = -(-len(items) // processes)
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    results: list[R | TimedOut] = []
    for chunk, result in zip(chunks, _run_chunks(work, chunks, processes, timeout), strict=True):
        if result is not None:
            results.extend(result)
            continue
        for item in chunk:
            (alone,) = _run_chunks(work, [[item]], processes, timeout)
            results.extend(alone if alone is not None else [TIMED_OUT])
    return results
