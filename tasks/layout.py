"""The output directory's layout, owned here alone: the datasets' parts, the bookkeeping in
`_state/`, atomic writes, and reading back what earlier runs wrote.

    OUT/documents/published_month=2002-07/part-<hash>.parquet   by publication month (UTC),
    OUT/documents/published_month=undated/part-<hash>.parquet   hive folders; one part per
    OUT/entities/published_month=2002-07/part-<hash>.parquet    batch, or per compacted file
    OUT/rejects/part-<hash>.parquet                             (a mention in the part of its
                                                                document, same name)
    OUT/entity_index/index.parquet       named entities across the output (tasks.entity_index)
    OUT/_state/parts.parquet             the parts finalize has settled, with their rows
    OUT/_state/inputs/, _state/sources/  files processed, where each source's row is
                                         (tasks.state)
    OUT/_state/sites/<site key>/         the sites' furniture memory (tasks.site_furniture)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from itertools import chain
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas.arrow import OUTPUT_SCHEMAS
from tasks.common import content_hash

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
TEMPORARY_SUFFIX = ".tmp"
STATE = "_state"  # bookkeeping of earlier runs: parts settled, inputs seen, sites' memory
# Documents and their mentions are partitioned by the month the document was published.
PARTITION = "published_month"
UNDATED = "undated"
MONTHLY = ("documents", "entities")
MANIFEST_FILE = "parts.parquet"
_MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("part", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
    ]
)


def write_atomically(
    table: pa.Table | Iterable[pa.Table], path: Path, row_group_size: int | None = None
) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place.
    Tables given one after the other are streamed into the file (of the first one's schema);
    empty ones add no row group."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    if isinstance(table, pa.Table):
        pq.write_table(table, temporary, compression="zstd", row_group_size=row_group_size)
    else:
        tables = iter(table)
        first = next(tables)
        with pq.ParquetWriter(temporary, first.schema, compression="zstd") as writer:
            for each in chain([first], tables):
                if each.num_rows:
                    writer.write_table(each, row_group_size=row_group_size)
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)


def part_file_name(*content: object) -> str:
    """A part's file name: the hash of what it holds, so the same rows keep the same name."""
    return f"{PART_PREFIX}{content_hash(*content)[:20]}{PART_SUFFIX}"


def month_of(published_at: datetime | None) -> str:
    """The partition of a document: its UTC publication month, or `undated`."""
    return published_at.strftime("%Y-%m") if published_at is not None else UNDATED


def partition(dataset: str, month: str) -> str:
    """The folder, relative to the output, of a dataset's rows of one month."""
    return f"{dataset}/{PARTITION}={month}" if dataset in MONTHLY else dataset


def mentions_of(part: str) -> str | None:
    """The part of a documents part's mentions (same folder and name under `entities/`)."""
    dataset, unit = part.split("/", 1)
    return f"entities/{unit}" if dataset == "documents" else None


def part_paths(output: Path, dataset: str) -> list[str]:
    """The dataset's parts on disk, relative to the output, in their partitions."""
    pattern = (
        f"{PARTITION}=*/{PART_PREFIX}*{PART_SUFFIX}"
        if dataset in MONTHLY
        else (f"{PART_PREFIX}*{PART_SUFFIX}")
    )
    return sorted(str(p.relative_to(output)) for p in (output / dataset).glob(pattern))


def older_layout(output: Path) -> list[Path]:
    """Parts of an older docpipe: straight in `documents/` or `entities/`, not in a month."""
    return sorted(p for d in MONTHLY for p in (output / d).glob(f"{PART_PREFIX}*{PART_SUFFIX}"))


def read_dataset(
    output: Path, dataset: str, columns: list[str] | None = None, parts: list[str] | None = None
) -> pa.Table:
    """One output dataset (or some of its parts) as a table, empty with its schema if none."""
    schema = OUTPUT_SCHEMAS[dataset]
    files = [
        str(output / part) for part in (part_paths(output, dataset) if parts is None else parts)
    ]
    if not files:
        table = schema.empty_table()
    else:
        table = ds.dataset(files, schema=schema, format="parquet").to_table(columns=columns)
    return table.select(columns) if columns else table


def read_manifest(output: Path) -> dict[str, int]:
    """The parts finalize has settled (relative path -> rows): the output as committed."""
    path = output / STATE / MANIFEST_FILE
    if not path.exists():
        return {}
    table = pq.read_table(path)
    return dict(zip(table["part"].to_pylist(), table["rows"].to_pylist(), strict=True))


def write_manifest(output: Path, parts: dict[str, int]) -> None:
    table = pa.table(
        {"part": sorted(parts), "rows": [parts[part] for part in sorted(parts)]},
        schema=_MANIFEST_SCHEMA,
    )
    (output / STATE).mkdir(parents=True, exist_ok=True)
    write_atomically(table, output / STATE / MANIFEST_FILE)


def total_rows(output: Path, dataset: str) -> int:
    """Rows in a finished output dataset, from the manifest."""
    return sum(
        rows for part, rows in read_manifest(output).items() if part.startswith(f"{dataset}/")
    )
