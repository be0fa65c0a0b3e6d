"""`docpipe compact OUT`: merge the small parts that daily runs leave into files of a sensible
size, so that a query opens a few files per month however many runs wrote it.

Each month's documents (with their mentions, under the same name) and the rejects are merged
in runs of parts up to `TARGET_BYTES`. Compaction holds the output alone, as a run does
(`tasks.lock`), and first settles what a crash may have left (finalize). A merged part is
written, entities first, before its inputs go, documents before their mentions: killed at any
moment, the output holds each row once or twice, and the next finalize (of a run or of
`docpipe compact`) keeps one.
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
from tasks.entity_index import no_pairs, update_index
from tasks.layout import (
    mentions_of,
    part_file_name,
    part_paths,
    read_manifest,
    write_atomically,
    write_manifest,
)
from tasks.lock import hold
from tasks.output import finalize_output, source_keys
from tasks.state import compact_state, record_sources

# A merged part grows up to about this size on disk (Parquet readers like 100 MB-1 GB files).
TARGET_BYTES = 128 * 1024 * 1024
# Rows gathered before a row group is written: small parts make few large row groups.
ROW_GROUP_ROWS = 50_000


class Compaction(NamedTuple):
    parts_before: dict[str, int]
    parts_after: dict[str, int]


def compact_output(output: Path, wait_seconds: float = 0.0) -> Compaction:
    """Merge each partition's small parts; returns the part counts per dataset."""
    with hold(output, wait_seconds, "docpipe compact"):
        finalize_output(output)
        before = _part_counts(output)
        merged: dict[str, str] = {}  # documents unit -> the unit it went into
        written: list[str] = []
        manifest = read_manifest(output)
        for dataset in ("documents", "rejects"):
            for group in _groups(output, dataset):
                part = _merge(output, group)
                written.append(part)
                for old in group:
                    manifest.pop(old)
                    manifest.pop(mentions_of(old) or "", None)
                    if dataset == "documents":
                        merged[old.split("/", 1)[1]] = part.split("/", 1)[1]
                for new in (part, mentions_of(part)):
                    if new and (output / new).exists():
                        manifest[new] = pq.read_metadata(output / new).num_rows
        if written:
            record_sources(output, pa.concat_tables(source_keys(output, part) for part in written))
            write_manifest(output, manifest)
            update_index(output, dict(merged), no_pairs())
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


def _merge(output: Path, group: list[str]) -> str:
    """Write the group's rows as one part (mentions first), then remove the group's parts."""
    part = str(Path(group[0]).parent / part_file_name(group))
    mentions = [m for m in map(mentions_of, group) if m and (output / m).exists()]
    merged_mentions = mentions_of(part)
    if mentions and merged_mentions:
        write_atomically(_batched(output, mentions), output / merged_mentions)
    write_atomically(_batched(output, group), output / part)
    for old in group:
        for path in (old, mentions_of(old)):
            if path and (output / path).exists():
                (output / path).unlink()
    return part


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
