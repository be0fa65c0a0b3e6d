"""Prefect processes for the deployment tests: a server, the CLI, workers and servers, and the
PostgreSQL cluster that a production-style server keeps its state in."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from tests.conftest import PROJECT

BIN = Path(sys.executable).parent
RUN_TIMEOUT = 300
# SQLite's answer under load, and PostgreSQL's when transactions wait on each other too long.
LOCK_ERRORS = re.compile(
    r"database is locked|deadlock detected|could not obtain lock|lock timeout", re.IGNORECASE
)
# PostgreSQL refuses to run as root (CI runs as root): there its commands run as the account
# Debian's `postgresql` package creates.
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Loop:
    env: dict[str, str]
    api: str
    server: subprocess.Popen[bytes]  # `prefect server start`, in its own process group

    def prefect(
        self, *arguments: str, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "prefect"), *arguments],
            cwd=PROJECT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def run_deployment(self, name: str, **parameters: object) -> subprocess.CompletedProcess[str]:
        arguments = ["deployment", "run", name, "--watch", "--watch-timeout", str(RUN_TIMEOUT)]
        for key, value in parameters.items():
            arguments += ["--param", f"{key}={json.dumps(value)}"]
        return self.prefect(*arguments)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=PROJECT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as a whole
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Postgres:
    url: str  # for PREFECT_API_DATABASE_CONNECTION_URL
    log: Path


def postgres_bin() -> Path:
    """The PostgreSQL server binaries: on PATH, or where Debian keeps them off PATH. Missing, the
    test fails in CI (which installs them, so it must not pass by skipping) and skips elsewhere."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda initdb: [int(part) for part in initdb.parts[-3].split(".")],
    )
    if debian:
        return debian[-1].parent
    reason = "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on a free 127.0.0.1 port (no TCP from elsewhere) with a
    database `prefect` owned by a role `prefect`, no superuser, as docs/operations.md sets it up
    (passwords aside: the cluster trusts its loopback clients). Its directory is a new one in the
    system's temporary folder: as root, pytest's own is closed to `postgres`."""
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="docpipe-postgres-"))
    if AS_POSTGRES:
        shutil.chown(root, "postgres", "postgres")
    data, log, port = str(root / "data"), root / "postgresql.log", free_port()

    def run(tool: str, *arguments: str, check: bool = True) -> None:
        done = subprocess.run(
            [*AS_POSTGRES, str(binaries / tool), *arguments],
            capture_output=True,
            text=True,
            timeout=120,
        )
        server_log = log.read_text() if log.exists() else ""
        assert done.returncode == 0 or not check, done.stdout + done.stderr + server_log

    try:
        run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        listen = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
        run("pg_ctl", "start", "-D", data, "-l", str(log), "-o", listen, "--wait")
        as_superuser = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        run("createuser", *as_superuser, "prefect")
        run("createdb", *as_superuser, "--owner", "prefect", "prefect")
        yield Postgres(f"postgresql+asyncpg://prefect@127.0.0.1:{port}/prefect", log)
    finally:
        run("pg_ctl", "stop", "-D", data, "--mode=fast", "--wait", check=False)
        shutil.rmtree(root, ignore_errors=True)


def lock_errors(*logs: Path) -> list[str]:
    """The lines of `logs` that report a database lock error."""
    return [
        f"{log.name}: {line}"
        for log in logs
        for line in log.read_text(errors="replace").splitlines()
        if LOCK_ERRORS.search(line)
    ]


@contextmanager
def prefect_server(home: Path, database: str | None = None) -> Iterator[Loop]:
    """`prefect server start` on a free 127.0.0.1 port, its state in the `database` URL if one is
    given (PostgreSQL, as in production), else in SQLite in `home`."""
    api = f"http://127.0.0.1:{free_port()}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_CLI_WRAP_LINES": "false",
    }
    port = api.split(":")[2].split("/")[0]
    server = start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port],
        {**env, "PREFECT_API_DATABASE_CONNECTION_URL": database} if database else env,
        home / "server.log",
    )
    try:
        waited = subprocess.run(
            [str(BIN / "python"), "deploy/wait_for_api.py", "120"], cwd=PROJECT, env=env
        )
        assert waited.returncode == 0, (home / "server.log").read_text()
        yield Loop(env, api, server)
    finally:
        stop(server)


def flow_run_id(output: str) -> UUID:
    """The flow run id that `prefect deployment run` printed."""
    line = next(line for line in output.splitlines() if "UUID:" in line)
    return UUID(line.split("UUID:")[1].strip())
