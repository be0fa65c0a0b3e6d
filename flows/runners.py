"""Where the stages run: threads in this process (the default), or a Dask cluster.

Locally, stages run in threads and their CPU-bound work (cleaning, language detection,
spaCy's NER), which holds the GIL, in a pool of one process per core
(`tasks.pool.worker_pool`). On Dask, each worker process runs its stages and that work
itself, loading a spaCy model once.
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner


def task_runner(dask_address: str | None = None) -> Any:
    """A Prefect task runner: threads here, or the Dask scheduler at `dask_address`."""
    if dask_address:
        from prefect_dask.task_runners import DaskTaskRunner  # imported only for Dask

        return DaskTaskRunner(address=dask_address)
    return ThreadPoolTaskRunner()
