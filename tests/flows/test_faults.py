"""Faults: `kill -9` at any point, the Prefect API going away, the disk refusing a write and a
worker process dying. After each, a run completes the output with every input exactly once,
and `docpipe verify` passes.

The crash tests run `docpipe run` as a user does, in its own process group, against a real
`prefect server start` on 127.0.0.1.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq
import pytest

from tasks.entity_index import rebuild
from tasks.entity_index_file import index_path
from tests.bench.corpus import write_corpus
from tests.deploy.servers import BIN, Loop, prefect_server, start, stop
from tests.flows.runs import rows, run, task_states

KILLS = 5
COMPACTION_KILLS = 4
RUN_TIMEOUT = 300


def docpipe(loop: Loop, corpus: Path, output: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [str(BIN / "docpipe"), "run", str(corpus), "--output", str(output)]
    env = {**loop.env, "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO"}  # where it got to
    return start([*command, "--batch-size", "3"], env, log)


def finish(loop: Loop, corpus: Path, output: Path, log: Path) -> None:
    """Run docpipe to the end, then check the output as `docpipe verify` does."""
    process = docpipe(loop, corpus, output, log)
    assert process.wait(timeout=RUN_TIMEOUT) == 0, log.read_text()[-3000:]
    verified = subprocess.run(
        [str(BIN / "docpipe"), "verify", str(output)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr


def exactly_once(corpus: Path, output: Path) -> dict[str, dict[str, Any]]:
    """Every corpus file is one document row (the corpus has no bad input); by source."""
    documents = rows(output, "documents")
    sources = [row["source"] for row in documents]
    assert sorted(sources) == sorted(p.as_uri() for p in corpus.glob("*.txt"))
    assert rows(output, "rejects") == []
    return {row["source"]: row for row in documents}


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """SIGKILL the process group as soon as `ready()`; False if the run ended first."""
    while process.poll() is None:
        if ready():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.005)
    return False


def written(output: Path, suffix: str) -> int:
    return sum(1 for _ in output.rglob(f"*{suffix}"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    with prefect_server(tmp_path_factory.mktemp("prefect-home")) as loop:
        yield loop


def test_kill_9_at_any_point_then_a_rerun_completes_exactly_once(
    server: Loop, tmp_path: Path
) -> None:
    corpus, output = tmp_path / "corpus", tmp_path / "out"
    write_corpus(corpus, 18, 120, seed=11)
    rng = random.Random(7)
    killed = 0
    for attempt in range(KILLS):
        pages = sorted(corpus.glob("*.txt"))
        changed = rng.sample(pages, 6)
        for page in changed:  # new content for some pages, so reruns replace rows too
            page.write_text(page.read_text() + f"\n\nRevision {attempt} of {page.stem}.\n")
        (corpus / f"new-{attempt}.txt").write_text(
            f"Fresh page {attempt}\n\nOfficials in Chicago said on Monday that page {attempt} "
            "had been added to the corpus.\n"
        )
        # The first kill lands while a Parquet file (a part, the entity index) is being
        # written, the others once a random number of parts is on disk: during stages,
        # between batches, in finalize.
        target = written(output, ".parquet") + rng.randint(0, 4)

        def trigger(first: bool = attempt == 0, target: int = target) -> bool:
            if first:
                return written(output, ".tmp") > 0
            return written(output, ".parquet") >= target

        process = docpipe(server, corpus, output, tmp_path / f"killed-{attempt}.log")
        killed += kill_when(process, trigger)
        finish(server, corpus, output, tmp_path / f"rerun-{attempt}.log")
        documents = exactly_once(corpus, output)
        # The entity index counts what the parts hold, whatever the kill interrupted.
        assert pq.read_table(index_path(output)).equals(rebuild(output))
        for page in changed:
            assert f"Revision {attempt} of {page.stem}." in documents[page.as_uri()]["text"]
        assert not list(output.rglob("*.tmp"))
    assert killed >= KILLS - 1  # the runs were killed, not finished before the trigger


def test_kill_9_during_compaction_then_the_next_one_loses_nothing(
    server: Loop, tmp_path: Path
) -> None:
    """Compaction killed at random moments (while a merged part is written, or once a random
    number of files changed), each after a run that added parts: the next compaction settles
    it, and every input is there exactly once in a part per month."""
    corpus, output = tmp_path / "corpus", tmp_path / "out"
    write_corpus(corpus, 12, 80, seed=15)
    rng = random.Random(8)
    killed = 0
    for attempt in range(COMPACTION_KILLS):
        for page in rng.sample(sorted(corpus.glob("*.txt")), 3):
            page.write_text(page.read_text() + f"\n\nRevision {attempt}.\n")
        finish(server, corpus, output, tmp_path / f"run-{attempt}.log")
        before = {row["source"]: row for row in rows(output, "documents")}
        files = set(output.rglob("*.parquet"))

        def trigger(
            first: bool = attempt % 2 == 0,
            files: set[Path] = files,
            changes: int = rng.randint(1, 6),
        ) -> bool:
            if first:
                return written(output, ".tmp") > 0
            return len(set(output.rglob("*.parquet")) ^ files) >= changes

        compaction = start(
            [str(BIN / "docpipe"), "compact", str(output)], server.env, tmp_path / "compact.log"
        )
        killed += kill_when(compaction, trigger)
        finished = subprocess.run(
            [str(BIN / "docpipe"), "compact", str(output)], capture_output=True, text=True
        )
        assert finished.returncode == 0, finished.stdout + finished.stderr
        verified = subprocess.run(
            [str(BIN / "docpipe"), "verify", str(output)], capture_output=True, text=True
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert {row["source"]: row for row in exactly_once(corpus, output).values()} == before
        assert pq.read_table(index_path(output)).equals(rebuild(output))
        months = {path.parent for path in (output / "documents").rglob("*.parquet")}
        assert len(list((output / "documents").rglob("*.parquet"))) == len(months)
    assert killed >= COMPACTION_KILLS - 1


def test_prefect_api_unreachable_mid_run_then_a_rerun_completes(tmp_path: Path) -> None:
    """The API going away fails the run once Prefect's client has used up its retries (two
    here, to keep the test short; five by default); what was exported stays, and a run once
    the API is back completes the output."""
    corpus, output, log = tmp_path / "corpus", tmp_path / "out", tmp_path / "cut-off.log"
    write_corpus(corpus, 30, 120, seed=12)
    home = tmp_path / "prefect-home"
    home.mkdir()
    with prefect_server(home) as loop:
        loop.env["PREFECT_CLIENT_MAX_RETRIES"] = "2"
        process = docpipe(loop, corpus, output, log)
        while process.poll() is None and written(output, ".parquet") < 2:
            time.sleep(0.05)
        # Killed, not stopped: a graceful stop can take long enough on a slow machine for
        # the run to finish first. The run fails at its next API call, the progress update.
        os.killpg(loop.server.pid, signal.SIGKILL)
        loop.server.wait()
    # (The run's process then spends minutes trying to deliver its last logs and events;
    # that is not waited for.)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while process.poll() is None and "Encountered exception" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
    finally:
        stop(process)
    assert "ConnectError" in log.read_text()
    assert written(output, ".parquet") >= 2  # what was exported stays
    with prefect_server(home) as loop:  # the same database, back again
        finish(loop, corpus, output, tmp_path / "rerun.log")
    exactly_once(corpus, output)


@pytest.mark.usefixtures("prefect_api")
def test_disk_refusing_a_write_fails_the_batch_which_is_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk leaves half a file and raises ENOSPC. As root no permission can refuse a
    write and a full file system needs a mount, so the refusal is made at the write call."""
    corpus, output = tmp_path / "corpus", tmp_path / "out"
    write_corpus(corpus, 4, 60, seed=13)
    real_write = pq.write_table
    refused: list[Path] = []

    def full_disk(table: Any, where: Any, **options: Any) -> None:
        if not refused:
            refused.append(Path(where))
            Path(where).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
        real_write(table, where, **options)

    # Every Parquet write of the output goes through pyarrow.parquet.write_table.
    monkeypatch.setattr(pq, "write_table", full_disk)
    _, flow_run_id = run([corpus], output, batch_size=10)
    assert refused and refused[0].name.endswith(".tmp")
    assert task_states(flow_run_id)["export batch-0001"] == ("Completed", 2)
    exactly_once(corpus, output)
    assert not list(output.rglob("*.tmp"))


def _busy_worker(process: psutil.Process) -> bool:
    """A worker-pool process on a CPU now (not waiting for work); False once it is gone."""
    try:
        spawned = "spawn_main" in " ".join(process.cmdline())
        return spawned and process.status() == psutil.STATUS_RUNNING
    except psutil.Error:
        return False


@pytest.mark.usefixtures("prefect_api")
def test_a_worker_process_dying_gets_its_batch_redone(tmp_path: Path) -> None:
    """Killed mid-call: the call fails and Prefect retries its stage on a new pool. (A worker
    that dies idle costs nothing: the next call gets a new pool, `tests/tasks/test_pool.py`.)"""
    corpus, output = tmp_path / "corpus", tmp_path / "out"
    write_corpus(corpus, 32, 300, seed=14)
    victims: list[int] = []

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline and not victims:
            busy = [child for child in psutil.Process().children() if _busy_worker(child)]
            if busy and written(output, ".parquet") >= 1:
                busy[0].kill()
                victims.append(busy[0].pid)
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        _, flow_run_id = run([corpus], output, batch_size=2, processes=2)
    finally:
        killer.join()
    assert victims
    retried = [name for name, (state, count) in task_states(flow_run_id).items() if count > 1]
    assert retried, "no stage was retried after the worker died"
    exactly_once(corpus, output)
