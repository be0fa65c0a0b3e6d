"""What every stage's `@task` shares: retry policy, content-hash cache keys, per-stage counts."""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pydantic_core
from prefect import get_run_logger
from prefect.client.schemas.objects import State
from prefect.context import TaskRunContext
from prefect.tasks import exponential_backoff

import schemas.models
from schemas.models import Batch, Reject, RejectReason

PIPELINE_VERSION = version("docpipe")


class Refused(ValueError):
    """What no retry can change (an output that needs a full refresh): fail at once."""


def _unless_refused(task: Any, task_run: Any, state: State[Any]) -> bool:
    return not isinstance(state.data, Refused)


# Every stage retries three times, after 1 s, 2 s and 4 s (+-50% jitter), unless refused.
RETRY_OPTIONS: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=1),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": _unless_refused,
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


def _stage_input(value: Any) -> Any:
    """What a stage works on: a batch's name and documents. The rejects an earlier stage made
    do not change this stage's work, so they stay out of its key."""
    return (value.name, value.documents) if isinstance(value, Batch) else value


def timed_out(source: str, stage: str, timeout: float) -> Reject:
    """The reject for an item `tasks.pool` gave up on: the stage goes on without it."""
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
