"""What every stage's `@task` shares: retry policy, content-hash cache keys, per-stage counts."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from functools import cache
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import pydantic_core
from prefect import get_run_logger
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff

import schemas.models
from schemas.models import Batch, Reject, RejectReason

PIPELINE_VERSION = version("docpipe")
T = TypeVar("T")
R = TypeVar("R")

# Every stage retries three times, after 1 s, 2 s and 4 s (+-50% jitter).
RETRY_OPTIONS: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=1),
    "retry_jitter_factor": 0.5,
}
# Results are persisted so that a later flow run over the same content finds them through
# the content-hash cache key (see `stage_cache_key`) and shows the task as Cached.
STAGE_TASK_OPTIONS: dict[str, Any] = {
    **RETRY_OPTIONS,
    "persist_result": True,
    "cache_expiration": timedelta(days=30),
    # Prefect otherwise keeps the last 1,000 results in memory: the flow process would grow
    # with the corpus. The next stage reads a persisted result back instead.
    "cache_result_in_memory": False,
}


@cache
def _code_fingerprint(module: str) -> str:
    """Hash of the stage's module and of the models: a code change invalidates its cache.

    Found by module name: in a process pool the task function arrives pickled by value,
    with no source file of its own.
    """
    digest = hashlib.sha256(PIPELINE_VERSION.encode())
    for name in (module, schemas.models.__name__):
        digest.update(Path(inspect.getfile(importlib.import_module(name))).read_bytes())
    return digest.hexdigest()


def content_hash(*parts: Any) -> str:
    """sha256 of the JSON form of `parts` (pydantic models, paths and plain data alike)."""
    return hashlib.sha256(pydantic_core.to_json(parts)).hexdigest()


def stage_cache_key(
    extra: Callable[[dict[str, Any]], Any] | None = None,
    ignore: tuple[str, ...] = (),
) -> Callable[[TaskRunContext, dict[str, Any]], str]:
    """A cache-key function: the task's code plus the content of its inputs (and `extra`).

    Keys never include clients or models, only content, so a new flow run over the same
    input gets the same keys and its finished batches show as Cached. Parameters named in
    `ignore` change how the work runs, not its result.
    """

    def key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        task = context.task
        extra_part = extra(parameters) if extra is not None else ()
        code = _code_fingerprint(task.fn.__module__)
        content = {
            name: _stage_input(value) for name, value in parameters.items() if name not in ignore
        }
        return f"{task.name}-{content_hash(code, content, extra_part)}"

    return key


class TimedOut:
    """Stands in for the result of an item that alone took longer than the stage may."""

    def __repr__(self) -> str:
        return "TIMED_OUT"


TIMED_OUT = TimedOut()
_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def worker_pool(processes: int) -> ProcessPoolExecutor:
    """Processes for the CPU-bound stages (cleaning, language detection, NER).

    One pool per flow process, shared by all its tasks; each worker loads what it needs (the
    spaCy models, langdetect's profiles) once and keeps it. A pool that lost a worker, or
    whose workers were stopped, is replaced by the next call.
    """
    with _pools_lock:
        if processes not in _pools:
            _pools[processes] = ProcessPoolExecutor(processes, mp_context=get_context("spawn"))
        return _pools[processes]


def _discard(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    """Forget `pool` (the next `worker_pool` call starts a new one); `kill` stops its workers
    mid-call: the only way to stop a call that runs too long (other tasks' calls in it fail,
    and Prefect retries them)."""
    with _pools_lock:
        for processes, known in list(_pools.items()):
            if known is pool:
                del _pools[processes]
    if kill:
        for process in list(pool._processes.values()):  # no public way before Python 3.14
            process.kill()
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


def _stage_input(value: Any) -> Any:
    """What a stage works on: a batch's name and documents. The rejects an earlier stage made
    do not change this stage's work, so they stay out of its key."""
    return (value.name, value.documents) if isinstance(value, Batch) else value


def timed_out(source: str, stage: str, timeout: float) -> Reject:
    detail = f"{stage} took longer than {timeout:g} s on this document alone (stage timeout)"
    return Reject(source=source, stage=stage, reason=RejectReason.TIMEOUT, detail=detail)


def reason_counts(rejects: Iterable[Reject]) -> str:
    counts = Counter(reject.reason for reject in rejects)
    return ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items())) or "none"


def log_stage(stage: str, after: Batch[Any]) -> None:
    """One log line per stage and batch: how many documents went on and why others stopped."""
    get_run_logger().info(
        "%s %s: %d documents out, %d rejected (%s)",
        stage,
        after.name,
        len(after.documents),
        len(after.rejects),
        reason_counts(after.rejects),
    )


def doc_id_for(source: str) -> str:
    """Stable id of a document: the same source URI always gives the same id."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]
