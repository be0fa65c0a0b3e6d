"""Where the stages run: threads in this process (the default), or a Dask cluster.

Locally, stages run in threads and their CPU-bound work (cleaning, language detection,
spaCy's NER), which holds the GIL, in a pool of one process per core
(`tasks.pool.worker_pool`). On Dask, each worker process runs its stages and that work
itself, loading a spaCy model once.
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from schemas.models import RunnerKind


def task_runner(
    kind: RunnerKind = "local", workers: int | None = None, dask_address: str | None = None
) -> Any:
    """A Prefect task runner: threads here, or Dask (an existing scheduler at
    `dask_address`, else a local cluster of `workers` single-threaded processes)."""
    if kind == "dask" or dask_address:
        from prefect_dask.task_runners import DaskTaskRunner  # imported only for Dask

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers,
                "threads_per_worker": 1,
                "dashboard_address": ":0",
            }
        )
    return ThreadPoolTaskRunner()
