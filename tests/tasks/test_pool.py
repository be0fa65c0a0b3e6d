"""The worker pool: work shared out in order, a slow item isolated (its own pool's workers
stopped, no other's), a worker dead mid-call reported, one dead while idle replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import active_children

from tasks.pool import TIMED_OUT, TimedOut, in_processes, worker_pool

SLOW = -1


def doubled_unless_slow(items: list[int]) -> list[int]:
    """Runs in a worker process: an item equal to SLOW hangs far past any test's timeout."""
    if SLOW in items:
        time.sleep(600)
    return [2 * item for item in items]


def pids(items: list[int]) -> list[int]:
    return [os.getpid() for _ in items]


def pids_held(items: list[int]) -> list[int]:
    """Holds its worker a moment, so that every worker of the pool gets a share."""
    time.sleep(0.5)
    return pids(items)


def _pids(results: list[int | TimedOut]) -> set[int]:
    """The worker PIDs a call returned (none of them timed out)."""
    found = {pid for pid in results if isinstance(pid, int)}
    assert len(found) == len(set(results))
    return found


def test_items_are_shared_out_in_order() -> None:
    assert in_processes(doubled_unless_slow, list(range(10)), 2, timeout=60) == [
        2 * n for n in range(10)
    ]
    assert os.getpid() not in in_processes(pids, list(range(10)), 2, timeout=60)
    assert in_processes(pids, [1, 2], 0, timeout=60) == [os.getpid()] * 2  # in this process


def test_a_slow_item_alone_times_out_and_the_others_are_done() -> None:
    items = [1, 2, SLOW, 3, 4, 5]
    started = time.monotonic()
    assert in_processes(doubled_unless_slow, items, 2, timeout=3) == [2, 4, TIMED_OUT, 6, 8, 10]
    assert time.monotonic() - started < 60  # the hung worker was stopped, not waited for
    assert in_processes(doubled_unless_slow, [7], 2, timeout=60) == [14]  # a fresh pool


def test_a_timeout_stops_the_workers_of_its_own_pool_only() -> None:
    other = worker_pool(2)
    others = _pids(in_processes(pids_held, [1, 2], 2, timeout=60))
    (hung,) = _pids(in_processes(pids, [1], 1, timeout=60))
    assert in_processes(doubled_unless_slow, [SLOW], 1, timeout=2) == [TIMED_OUT]
    alive = {process.pid for process in active_children()}
    assert hung not in alive
    assert others <= alive
    assert worker_pool(2) is other
    assert _pids(in_processes(pids_held, [1, 2], 2, timeout=60)) == others


def held(items: list[int]) -> list[int]:
    """Busy long after the test kills its worker (the call fails at the kill, not after)."""
    time.sleep(30)
    return items


def test_a_worker_dead_while_idle_is_replaced_before_the_next_call() -> None:
    """As in a long-lived process (`serve`, a worker) between runs: nothing was lost."""
    pool = worker_pool(2)
    victim = min(_pids(in_processes(pids, [1, 2], 2, timeout=60)))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not pool.broken():  # the pool notices the death
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert in_processes(doubled_unless_slow, [1, 2], 2, timeout=60) == [2, 4]
    assert worker_pool(2) is not pool


def test_a_worker_dying_mid_call_fails_the_call_and_the_next_call_gets_a_new_pool() -> None:
    pool = worker_pool(2)
    workers = _pids(in_processes(pids_held, [1, 2], 2, timeout=60))
    failed: list[BaseException] = []

    def call() -> None:
        try:
            in_processes(held, [1, 2], 2, timeout=60)
        except BrokenProcessPool as error:
            failed.append(error)

    running = threading.Thread(target=call)
    running.start()
    time.sleep(1)
    os.kill(min(workers), signal.SIGKILL)
    running.join(timeout=60)
    assert failed  # the call's work was lost: it fails, and Prefect retries the task
    assert worker_pool(2) is not pool
    assert in_processes(doubled_unless_slow, [1, 2], 2, timeout=60) == [2, 4]
