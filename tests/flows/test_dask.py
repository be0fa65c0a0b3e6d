"""The same flow on a real Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, started and stopped here. The output must equal a local run's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from schemas.arrow import OUTPUT_SCHEMAS
from tests.bench.corpus import write_corpus
from tests.deploy.servers import free_port, start, stop
from tests.flows.runs import rows, run

pytestmark = pytest.mark.usefixtures("prefect_api")
BIN = Path(sys.executable).parent


def dask(*arguments: str, log: Path) -> subprocess.Popen[bytes]:
    return start([str(BIN / "dask"), *arguments], dict(os.environ), log)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers, all on 127.0.0.1."""
    logs = tmp_path_factory.mktemp("dask")
    port = str(free_port())
    address = f"tcp://127.0.0.1:{port}"
    scheduler = dask(
        "scheduler", "--host", "127.0.0.1", "--port", port, "--dashboard-address", ":0",
        log=logs / "scheduler.log",
    )  # fmt: skip
    workers = [
        dask(
            "worker",
            address,
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            log=logs / f"worker-{n}.log",
        )
        for n in (1, 2)
    ]
    try:
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in [*workers, scheduler]:
            stop(process)


def comparable(output: Path, dataset: str) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if k != "processed_at"} for row in rows(output, dataset)]


def test_dask_run_equals_a_local_run(dask_cluster: str, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", documents=12, words=150, seed=11)
    (corpus / "empty.txt").write_text("")

    # As a deployment would: the address is a flow parameter (the run goes on as a subflow).
    run([corpus], tmp_path / "dask", batch_size=3, dask_address=dask_cluster)
    run([corpus], tmp_path / "local", batch_size=3, full_refresh=True)

    for dataset in OUTPUT_SCHEMAS:
        assert comparable(tmp_path / "dask", dataset) == comparable(tmp_path / "local", dataset)
    assert len(rows(tmp_path / "dask", "documents")) == 12
    with Client(dask_cluster) as client:
        loaded = client.run(
            lambda: __import__("tasks.entities").entities.load_model.cache_info().misses
        )
    assert len(loaded) == 2  # both workers answered
    assert all(misses >= 1 for misses in loaded.values()), loaded  # each worker loaded spaCy
    assert all(misses <= 2 for misses in loaded.values()), loaded  # once per language model
