"""One writer at a time: a run or `docpipe compact` holds the output alone.

A run's finalize settles every part that is not settled yet, so two runs writing one output
would settle each other's half-written batches. An advisory `flock` on `OUT/.docpipe.lock`
keeps them apart; the kernel lets it go when its process ends, however it ends (kill -9
included), so a crash never leaves the output locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".docpipe.lock"
POLL_SECONDS = 0.5


class OutputBusy(RuntimeError):
    """Another run or a compaction holds the output."""


@contextmanager
def hold(output: Path, wait_seconds: float, holder: str) -> Iterator[None]:
    """Hold the output's lock, waiting up to `wait_seconds` for whoever holds it."""
    output.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(output / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusy(
                        f"{output} is busy: another docpipe run or `docpipe compact` is writing "
                        f"it; {holder} waited {wait_seconds:.0f} s. Try again when it is done"
                    ) from None
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)  # releases the lock
