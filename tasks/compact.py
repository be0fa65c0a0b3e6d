"""`docpipe compact OUT`: merge the small parts that daily runs leave into files of a sensible
size, so that a query opens a few files per month however many runs wrote it.

Each month's documents (with their mentions, under the same name) and the rejects are merged
in runs of parts up to `TARGET_BYTES`. Compaction holds the output alone, as a run does
(`tasks.lock`), and first settles what a crash may have left (finalize). A merged part is
written, entities first, beside the parts it merges, and finalize then removes those, documents
before their mentions: killed at any moment, the output holds each row once or twice, and the
next finalize (of a run or of `docpipe compact`) keeps one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks.common import RETRY_OPTIONS
from tasks.layout import (
    mentions_of,
    part_file_name,
    part_paths,
    write_atomically,
)
from tasks.lock import hold
from tasks.output import finalize_output
from tasks.state import compact_state

# A merged part grows up to about this size on disk (Parquet readers like 100 MB-1 GB files).
TARGET_BYTES = 128 * 1024 * 1024
# Rows gathered before a row group is written: small parts make few large row groups.
ROW_GROUP_ROWS = 50_000


class Compaction(NamedTuple):
    parts_before: dict[str, int]
    parts_after: dict[str, int]


def compact_output(output: Path, wait_seconds: float = 0.0) -> Compaction:
    """Merge each partition's small parts; returns the part counts per dataset.

    The merged parts are written beside the parts they merge, then finalize settles them as it
    settles a run's: their rows replace the same rows in the merged parts, which go (the
    source index, the manifest and the entity index follow by the same crash-tested path)."""
    with hold(output, wait_seconds, "docpipe compact"):
        finalize_output(output)
        before = _part_counts(output)
        for dataset in ("documents", "rejects"):
            for group in _groups(output, dataset):
                _write_merged(output, group)
        finalize_output(output)
        compact_state(output)
        return Compaction(before, _part_counts(output))


def _part_counts(output: Path) -> dict[str, int]:
    return {
        dataset: len(part_paths(output, dataset))
        for dataset in ("documents", "entities", "rejects")
    }


def _groups(output: Path, dataset: str) -> Iterator[list[str]]:
    """Runs of two or more parts of one folder whose sizes add up to `TARGET_BYTES` at most."""
    by_folder: dict[str, list[str]] = {}
    for part in part_paths(output, dataset):
        by_folder.setdefault(str(Path(part).parent), []).append(part)
    for parts in by_folder.values():
        group: list[str] = []
        size = 0
        for part in parts:
            part_size = (output / part).stat().st_size
            if group and size + part_size > TARGET_BYTES:
                if len(group) > 1:
                    yield group
                group, size = [], 0
            group.append(part)
            size += part_size
        if len(group) > 1:
            yield group


def _write_merged(output: Path, group: list[str]) -> None:
    """The group's rows as one part, its mentions first (under the same name)."""
    part = str(Path(group[0]).parent / part_file_name(group))
    mentions = [m for m in map(mentions_of, group) if m and (output / m).exists()]
    merged_mentions = mentions_of(part)
    if mentions and merged_mentions:
        write_atomically(_batched(output, mentions), output / merged_mentions)
    write_atomically(_batched(output, group), output / part)


def _batched(output: Path, parts: list[str]) -> Iterator[pa.Table]:
    """The parts' rows in tables of about `ROW_GROUP_ROWS` rows, one part in memory at a time."""
    pending: list[pa.Table] = []
    for part in parts:
        pending.append(pq.read_table(output / part))
        if sum(table.num_rows for table in pending) >= ROW_GROUP_ROWS:
            yield pa.concat_tables(pending)
            pending = []
    if pending:
        yield pa.concat_tables(pending)


@task(name="compact", task_run_name="compact {output}", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def compact_parts(output: Path, wait_seconds: float) -> Compaction:
    """Compaction as a Prefect task: retried like every stage, its counts in the run's log."""
    compaction = compact_output(output, wait_seconds)
    get_run_logger().info(
        "compacted %s: parts %s -> %s", output, compaction.parts_before, compaction.parts_after
    )
    return compaction
