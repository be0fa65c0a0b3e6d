"""The output directory's layout, owned here alone: the datasets' parts, the bookkeeping in
`_state/`, atomic writes, and reading back what earlier runs wrote.

    OUT/documents/part-<hash>.parquet    one part per batch and dataset
    OUT/entities/part-<hash>.parquet     (a document's mentions in the part of its name)
    OUT/rejects/part-<hash>.parquet
    OUT/entity_index/index.parquet       named entities across the output (tasks.entity_index)
    OUT/_state/inputs.parquet            files processed, with size and modification time
    OUT/_state/sites/<site key>/         the sites' furniture memory (tasks.site_furniture)
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas.arrow import OUTPUT_SCHEMAS

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
TEMPORARY_SUFFIX = ".tmp"
STATE = "_state"  # bookkeeping of earlier runs: inputs seen, the sites' furniture memory
INPUTS_FILE = "inputs.parquet"
_INPUTS_SCHEMA = pa.schema(
    [
        pa.field("location", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("mtime_ns", pa.int64(), nullable=False),
    ]
)

Fingerprint = tuple[int, int]  # a file's (size, modification time in ns)


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    pq.write_table(table, temporary, compression="zstd")
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)


def read_dataset(
    output: Path, dataset: str, columns: list[str] | None = None, parts: list[str] | None = None
) -> pa.Table:
    """One output dataset (or some of its parts) as a table, empty with its schema if none."""
    schema = OUTPUT_SCHEMAS[dataset]
    files = (
        [str(output / part) for part in parts]
        if parts is not None
        else [str(p) for p in sorted((output / dataset).glob(f"{PART_PREFIX}*{PART_SUFFIX}"))]
    )
    if not files:
        table = schema.empty_table()
    else:
        table = ds.dataset(files, schema=schema, format="parquet").to_table(columns=columns)
    return table.select(columns) if columns else table


def parts_of(output: Path, dataset: str) -> list[str]:
    return sorted(
        f"{dataset}/{p.name}" for p in (output / dataset).glob(f"{PART_PREFIX}*{PART_SUFFIX}")
    )


def total_rows(output: Path, dataset: str) -> int:
    """Rows in a finished output dataset, from Parquet footers alone."""
    return sum(
        pq.ParquetFile(output / part).metadata.num_rows for part in parts_of(output, dataset)
    )


def read_inputs(output: Path) -> dict[str, Fingerprint]:
    """Files processed by earlier runs, with the size and modification time they had then."""
    path = output / STATE / INPUTS_FILE
    if not path.exists():
        return {}
    rows = pq.read_table(path).to_pylist()
    return {row["location"]: (row["size"], row["mtime_ns"]) for row in rows}


def record_inputs(output: Path, fingerprints: dict[str, Fingerprint]) -> None:
    """Remember the files a finished run processed, with the fingerprints planned for them."""
    merged = {**read_inputs(output), **fingerprints}
    table = pa.Table.from_pylist(
        [{"location": k, "size": v[0], "mtime_ns": v[1]} for k, v in sorted(merged.items())],
        schema=_INPUTS_SCHEMA,
    )
    (output / STATE).mkdir(parents=True, exist_ok=True)
    write_atomically(table, output / STATE / INPUTS_FILE)


@cache
def _known_documents(output: str, run_token: str) -> dict[str, str]:
    table = read_dataset(Path(output), "documents", ["doc_id", "content_sha256"])
    return dict(zip(table["doc_id"].to_pylist(), table["content_sha256"].to_pylist(), strict=True))


def known_documents(output: Path, run_token: str) -> dict[str, str]:
    """doc_id -> content_sha256 of the documents already in the output, read once per run."""
    return _known_documents(str(output.absolute()), run_token)
