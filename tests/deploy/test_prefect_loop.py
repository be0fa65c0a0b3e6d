"""The Prefect loop for real, as in production: `prefect server start` on PostgreSQL, a process
work pool, the deployments of deploy/prefect.yaml, a worker, `prefect deployment run ... --watch`,
and a schedule firing, with no database lock error in any log.

The loop runs on PostgreSQL only: under this load SQLite answers `database is locked` (and 503),
which is why production uses PostgreSQL. The SQLite server of `make server` is covered by
test_serve.py and by the flow tests' `prefect_test_harness`.

Everything runs on 127.0.0.1 in processes this module starts and stops.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from tests.conftest import PROJECT, SEEDS
from tests.deploy.servers import (
    BIN,
    Loop,
    flow_run_id,
    lock_errors,
    postgres,
    prefect_server,
    start,
    stop,
)


def make(loop: Loop, target: str) -> subprocess.CompletedProcess[str]:
    """A Makefile target, with the loop's PREFECT_API_URL and PREFECT_HOME exported: the
    server runs on a free port, not 4200, so the target works only if it honours them."""
    return subprocess.run(
        ["make", target], cwd=PROJECT, env=loop.env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    home = tmp_path_factory.mktemp("prefect-home")
    with postgres() as database, prefect_server(home, database.url) as running:
        deployed = make(running, "deploy")  # creates the work pool, then deploys the yaml
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        # As a provisioning script starts it: a background job of a non-interactive shell,
        # which inherits SIGINT ignored (Prefect stops on SIGTERM by sending itself SIGINT).
        worker = start(["sh", "-c", "make worker & wait $!"], running.env, home / "worker.log")
        try:
            yield running
        finally:
            stopped = make(running, "worker-stop")
            try:
                code = worker.wait(timeout=60)
            finally:
                stop(worker)
            assert stopped.returncode == 0, stopped.stderr
            assert code == 0, (home / "worker.log").read_text()  # a clean stop, no Error 137
        assert not (home / "prefect.db").exists(), "the server fell back to SQLite"
        assert not lock_errors(home / "server.log", home / "worker.log", database.log)


def _summary(loop: Loop, flow_run_id: UUID) -> str:
    script = (
        "import sys; from uuid import UUID\n"
        "from prefect.client.orchestration import get_client\n"
        "from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId\n"
        "with get_client(sync_client=True) as client:\n"
        "    found = client.read_artifacts(artifact_filter=ArtifactFilter(\n"
        "        flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(sys.argv[1])])))\n"
        "print({a.key: a.data for a in found}['docpipe-run-summary'])\n"
    )
    result = subprocess.run(
        [str(BIN / "python"), "-c", script, str(flow_run_id)],
        env=loop.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_adhoc_runs_are_incremental(loop: Loop, tmp_path: Path) -> None:
    sources = tmp_path / "seeds"
    shutil.copytree(SEEDS, sources)
    output = tmp_path / "out"
    parameters = {"sources": [str(sources)], "output": str(output), "timezone": "Asia/Seoul"}

    first = loop.run_deployment("process-documents/adhoc", **parameters)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "**1** inputs: **1** documents, **0** rejects, **0** unchanged" in _summary(
        loop, flow_run_id(first.stdout)
    )
    assert list((output / "documents").rglob("part-*.parquet"))

    harbour = "Harbour Reopens\n\nPosted July. 20, 2002 10:00,\n\nThe harbour reopened today.\n"
    (sources / "harbour.txt").write_text(harbour)  # the seed's month: a second part there
    second = loop.run_deployment("process-documents/adhoc", **parameters)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "**2** inputs: **1** documents, **0** rejects, **1** unchanged" in _summary(
        loop, flow_run_id(second.stdout)
    )

    third = loop.run_deployment("process-documents/adhoc", **parameters)
    assert third.returncode == 0, third.stdout + third.stderr
    summary = _summary(loop, flow_run_id(third.stdout))
    assert "**2** inputs: **0** documents, **0** rejects, **2** unchanged" in summary
    assert "no stage work was done" in summary

    month = output / "documents" / "published_month=2002-07"
    assert len(list(month.glob("part-*.parquet"))) == 2
    compacted = loop.run_deployment("compact-output/weekly", output=str(output))
    assert compacted.returncode == 0, compacted.stdout + compacted.stderr
    assert len(list(month.glob("part-*.parquet"))) == 1


@pytest.mark.parametrize(
    ("parameters", "field"),
    [({"batch_size": "lots"}, "batch_size"), ({"bogus": 1}, "bogus")],
)
def test_bad_parameters_are_refused_naming_the_field(
    loop: Loop, parameters: dict[str, object], field: str
) -> None:
    result = loop.run_deployment("process-documents/adhoc", sources=["seeds/"], **parameters)
    assert result.returncode != 0
    assert f"'{field}'" in result.stdout + result.stderr


def test_invalid_value_fails_the_run_with_a_readable_reason(loop: Loop, tmp_path: Path) -> None:
    result = loop.run_deployment(
        "process-documents/adhoc",
        sources=["seeds/"],
        output=str(tmp_path / "out"),
        timezone="Mars/Olympus",
    )
    assert result.returncode == 1
    assert "Failed" in result.stdout
    state = loop.prefect("flow-run", "inspect", str(flow_run_id(result.stdout)))
    assert "unknown timezone 'Mars/Olympus'" in state.stdout


def test_a_schedule_fires_by_itself(loop: Loop, tmp_path: Path) -> None:
    parameters = json.dumps({"sources": [str(SEEDS)], "output": str(tmp_path / "out")})
    deployed = loop.prefect(
        "--no-prompt", "deploy", "flows/pipeline.py:process_documents",
        "--name", "every-minute", "--pool", "docpipe", "--interval", "60",
        "--params", parameters,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    parts = tmp_path / "out" / "documents"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not list(parts.rglob("part-*.parquet")):
        time.sleep(2)
    deleted = loop.prefect("deployment", "delete", "process-documents/every-minute")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert list(parts.rglob("part-*.parquet")), "no scheduled run completed within 180 s"
