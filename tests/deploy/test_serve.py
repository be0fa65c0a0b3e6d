"""`make serve`: the deployments of deploy/prefect.yaml served from one process, no worker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.serve import deployments_from_yaml
from tests.conftest import SEEDS
from tests.deploy.servers import BIN, Loop, prefect_server, start, stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with prefect_server(tmp_path_factory.mktemp("prefect-home")) as running:
        yield running


def test_deployments_come_from_prefect_yaml() -> None:
    served = {d.name: d for d in deployments_from_yaml()}
    assert sorted(served) == ["adhoc", "scheduled", "weekly"]
    assert served["weekly"].flow_name == "compact-output"
    (schedule,) = served["scheduled"].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 6 * * *", "Asia/Seoul")
    assert served["scheduled"].parameters["timezone"] == "Asia/Seoul"


def test_serve_runs_an_adhoc_deployment(server: Loop, tmp_path: Path) -> None:
    process = start([str(BIN / "python"), "-m", "flows.serve"], server.env, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 60
        while "being served" not in (tmp_path / "serve.log").read_text():
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(1)
        result = server.run_deployment(
            "process-documents/adhoc", sources=[str(SEEDS)], output=str(tmp_path / "out")
        )
    finally:
        stop(process)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list((tmp_path / "out" / "documents").rglob("part-*.parquet"))
