"""Where the stages run: local processes (the default, one per core), threads, or Dask.

spaCy holds the GIL, so NER only uses several cores in several processes. Each process (or
Dask worker) loads a spaCy model once and keeps it (`tasks.entities.load_model`).
"""

from __future__ import annotations

import os
from typing import Any

from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from schemas.models import RunnerKind


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def task_runner(
    kind: RunnerKind = "processes", workers: int | None = None, dask_address: str | None = None
) -> Any:
    """A Prefect task runner: `workers` local processes or threads, or a Dask cluster (an
    existing scheduler at `dask_address`, else a local one of `workers` processes)."""
    count = workers or cores()
    if kind == "dask" or dask_address:
        from prefect_dask.task_runners import DaskTaskRunner  # imported only for Dask

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": count, "threads_per_worker": 1, "dashboard_address": ":0"}
        )
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=count)
    return ProcessPoolTaskRunner(max_workers=count)
