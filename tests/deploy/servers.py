"""Prefect processes for the deployment tests: a server, the CLI, workers and servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from tests.conftest import PROJECT

BIN = Path(sys.executable).parent
RUN_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Loop:
    env: dict[str, str]
    api: str

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


@contextmanager
def prefect_server(home: Path) -> Iterator[Loop]:
    """`prefect server start` on a free 127.0.0.1 port with its SQLite database in `home`."""
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
        env,
        home / "server.log",
    )
    try:
        waited = subprocess.run(
            [str(BIN / "python"), "deploy/wait_for_api.py", "120"], cwd=PROJECT, env=env
        )
        assert waited.returncode == 0, (home / "server.log").read_text()
        yield Loop(env, api)
    finally:
        stop(server)


def flow_run_id(output: str) -> UUID:
    """The flow run id that `prefect deployment run` printed."""
    line = next(line for line in output.splitlines() if "UUID:" in line)
    return UUID(line.split("UUID:")[1].strip())
