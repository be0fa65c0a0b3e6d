"""Export stage: Parquet files (zstd) written atomically, one part per batch and dataset.

`OUT/documents/`, `OUT/entities/` and `OUT/rejects/` are flat directories of
`part-<content hash>.parquet` files, readable as one table by DuckDB, pandas, Polars and Spark.
A part is written to a temporary name and renamed into place, so a reader never sees half a
file. The part name comes from the batch's content, so the same input rewrites the same part.
How a run's parts join the earlier ones is `tasks.output`'s business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.arrow import OUTPUT_SCHEMAS
from schemas.models import Batch, Document, Reject
from tasks.common import RETRY_OPTIONS, content_hash
from tasks.layout import PART_PREFIX, PART_SUFFIX, write_atomically
from tasks.site_furniture import remember

# Arrow's default allocator (mimalloc) keeps freed memory for reuse: the flow process, which
# builds and reads a few tables per batch, grew with the corpus (+120 MB from 200 to 2,000
# documents). The system allocator gives it back.
pa.set_memory_pool(pa.system_memory_pool())


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


def export_batch(documents: list[Document], rejects: list[Reject], output: Path) -> list[str]:
    """Write the batch's non-empty tables; returns their paths relative to `output`.

    Entity mentions are written before their documents, so a document row on disk always has
    its mentions beside it (the next run skips a document it finds). A part that is already
    there is only touched: its name is the hash of its content, and the newest part of a
    source is the one `tasks.output.finalize_output` keeps.
    """
    name = part_name(documents, rejects)
    tables = batch_tables(documents, rejects)
    parts = []
    for dataset in ("entities", "documents", "rejects"):
        if tables[dataset].num_rows == 0:
            continue
        path = output / dataset / name
        if path.exists():
            path.touch()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(tables[dataset], path)
        parts.append(f"{dataset}/{name}")
    return parts


@task(
    name="export",
    task_run_name="export {batch.name}",
    # Not cached: the part names are content hashes, so a re-run finds its parts on disk and
    # writes nothing, while a deleted output is written again.
    cache_policy=NO_CACHE,
    **RETRY_OPTIONS,
)
def export_documents(batch: Batch[Document], earlier: list[Batch[Any]], output: Path) -> list[str]:
    """Write the batch's documents and the rejects of every stage (`earlier` ones included),
    and add the pages cleaning saw to their sites' memory."""
    rejects = [reject for stage in (*earlier, batch) for reject in stage.rejects]
    parts = export_batch(batch.documents, rejects, output)
    remember(output, [page for stage in earlier for page in stage.site_pages])
    get_run_logger().info(
        "export %s: %d documents, %d rejects in %s",
        batch.name,
        len(batch.documents),
        len(rejects),
        ", ".join(parts) or "no part",
    )
    return parts
