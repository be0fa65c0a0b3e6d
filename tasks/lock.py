"""Who may write an output: runs share it, compaction holds it alone.

An advisory `flock` on `OUT/.docpipe.lock`: the kernel lets it go when its process ends,
however it ends (kill -9 included), so a crash never leaves the output locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".docpipe.lock"
FINALIZE_LOCK_FILE = ".docpipe-finalize.lock"
POLL_SECONDS = 0.5


class OutputBusy(RuntimeError):
    """Another process holds the output in a way that excludes this one."""


@contextmanager
def hold(
    output: Path, exclusive: bool, wait_seconds: float, holder: str, name: str = LOCK_FILE
) -> Iterator[None]:
    """Hold the output's lock (shared or exclusive), waiting up to `wait_seconds` for it."""
    output.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(output / name, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusy(
                        f"{output} is busy: {holder} waited {wait_seconds:.0f} s for "
                        + (
                            "the runs writing it to finish"
                            if exclusive
                            else "`docpipe compact` to finish"
                        )
                        + "; try again when it is done"
                    ) from None
                time.sleep(POLL_SECONDS)
        yield
    finally:
        os.close(descriptor)  # releases the lock
