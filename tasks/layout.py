"""The output directory's layout: where each dataset and the bookkeeping live, and how a
file is written so that no reader ever sees half of it."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
TEMPORARY_SUFFIX = ".tmp"
STATE = "_state"  # bookkeeping of earlier runs: inputs seen, the sites' furniture memory


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    pq.write_table(table, temporary, compression="zstd")
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)
