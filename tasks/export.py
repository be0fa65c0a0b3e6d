"""Export stage: Parquet files (zstd) written atomically, one part per batch and dataset.

`OUT/documents/`, `OUT/entities/` and `OUT/rejects/` are flat directories of
`part-<content hash>.parquet` files, readable as one table by DuckDB, pandas, Polars and Spark.
A part is written to a temporary name and renamed into place, so a reader never sees half a
file. The part name comes from the batch's content, so the same input rewrites the same part.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.arrow import OUTPUT_SCHEMAS
from schemas.models import Batch, Document, Reject, RunSummary
from tasks.common import RETRY_OPTIONS, content_hash

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
TEMPORARY_SUFFIX = ".tmp"
TOP_ENTITIES = 10


def part_name(documents: list[Document], rejects: list[Reject]) -> str:
    return f"{PART_PREFIX}{content_hash(documents, rejects)[:20]}{PART_SUFFIX}"


def batch_tables(documents: list[Document], rejects: list[Reject]) -> dict[str, pa.Table]:
    """The rows of each output dataset for one batch, typed by the derived Arrow schemas."""
    rows: dict[str, list[dict[str, Any]]] = {
        "documents": [document.model_dump() for document in documents],
        "entities": [
            {**entity.model_dump(), "doc_id": document.doc_id, "language": document.language}
            for document in documents
            for entity in document.entities
        ],
        "rejects": [reject.model_dump() for reject in rejects],
    }
    return {
        dataset: pa.Table.from_pylist(rows[dataset], schema=schema)
        for dataset, schema in OUTPUT_SCHEMAS.items()
    }


def write_atomically(table: pa.Table, path: Path) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place."""
    temporary = path.with_name(path.name + TEMPORARY_SUFFIX)
    pq.write_table(table, temporary, compression="zstd")
    with temporary.open("rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, path)


def export_batch(documents: list[Document], rejects: list[Reject], output: Path) -> list[str]:
    """Write the batch's non-empty tables; returns their paths relative to `output`.

    A part that is already there is left alone: its name is the hash of its content.
    """
    name = part_name(documents, rejects)
    parts = []
    for dataset, table in batch_tables(documents, rejects).items():
        if table.num_rows == 0:
            continue
        path = output / dataset / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(table, path)
        parts.append(f"{dataset}/{name}")
    return parts


def finalize_output(output: Path, parts: set[str]) -> list[str]:
    """Remove parts this run did not write and temporary leftovers; returns what was removed.

    The output then holds exactly the rows of this run's inputs: no stale copy of a document
    from an earlier run whose batches were cut differently.
    """
    removed = []
    for dataset in OUTPUT_SCHEMAS:
        for path in sorted((output / dataset).glob("*")):
            relative = f"{dataset}/{path.name}"
            stale_part = path.name.startswith(PART_PREFIX) and path.suffix == PART_SUFFIX
            if path.name.endswith(TEMPORARY_SUFFIX) or (stale_part and relative not in parts):
                path.unlink()
                removed.append(relative)
    return removed


def read_dataset(output: Path, dataset: str, columns: list[str] | None = None) -> pa.Table:
    """One output dataset as a table (empty, with its schema, when no part was written)."""
    directory = output / dataset
    schema = OUTPUT_SCHEMAS[dataset]
    if not any(directory.glob(f"*{PART_SUFFIX}")):
        table = schema.empty_table()
    else:
        table = ds.dataset(directory, schema=schema, format="parquet").to_table(columns=columns)
    return table.select(columns) if columns else table


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    return {row["values"]: row["counts"] for row in pc.value_counts(table[column]).to_pylist()}


def summarize_output(output: Path) -> RunSummary:
    """Counts of what is on disk (not of what the run believes it wrote)."""
    documents = read_dataset(output, "documents", ["language"])
    rejects = read_dataset(output, "rejects", ["reason"])
    entities = read_dataset(output, "entities", ["text", "label"])
    mentions = Counter(
        zip(entities["text"].to_pylist(), entities["label"].to_pylist(), strict=True)
    )
    return RunSummary(
        output=str(output),
        inputs=documents.num_rows + rejects.num_rows,
        documents=documents.num_rows,
        rejects=rejects.num_rows,
        rejects_by_reason=dict(sorted(_counts(rejects, "reason").items())),
        documents_by_language=dict(sorted(_counts(documents, "language").items())),
        top_entities=[(text, label, n) for (text, label), n in mentions.most_common(TOP_ENTITIES)],
    )


@task(
    name="export",
    task_run_name="export {batch.name}",
    # Not cached: the part names are content hashes, so a re-run finds its parts on disk and
    # writes nothing, while a deleted output is written again.
    cache_policy=NO_CACHE,
    **RETRY_OPTIONS,
)
def export_documents(batch: Batch[Document], earlier: list[Batch[Any]], output: Path) -> list[str]:
    """Write the batch's documents and the rejects of every stage (`earlier` ones included)."""
    rejects = [reject for stage in (*earlier, batch) for reject in stage.rejects]
    parts = export_batch(batch.documents, rejects, output)
    get_run_logger().info(
        "export %s: %d documents, %d rejects in %s",
        batch.name,
        len(batch.documents),
        len(rejects),
        ", ".join(parts) or "no part",
    )
    return parts


@task(name="finalize", task_run_name="finalize {output}", **RETRY_OPTIONS)
def finalize(output: Path, parts: set[str]) -> RunSummary:
    removed = finalize_output(output, parts)
    if removed:
        get_run_logger().info("removed %d stale or temporary files: %s", len(removed), removed)
    return summarize_output(output)
