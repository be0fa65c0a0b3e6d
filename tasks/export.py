"""Export stage: Parquet files (zstd) written atomically, one part per batch and dataset.

A batch's documents and their mentions go to `OUT/documents/` and `OUT/entities/`, one part
in the folder of each publication month they hold (`published_month=2002-07/`, hive style,
so DuckDB, pandas, Polars and Spark read the month as a column and skip the other months);
its rejects go to `OUT/rejects/`. A part is written to a temporary name and renamed into
place, so a reader never sees half a file. The part name comes from the batch's content, so
the same input rewrites the same part.
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
from tasks.common import RETRY_OPTIONS
from tasks.layout import month_of, part_file_name, partition, write_atomically
from tasks.site_furniture import remember

# Arrow's default allocator (mimalloc) keeps freed memory for reuse: the flow process, which
# builds and reads a few tables per batch, grew with the corpus (+120 MB from 200 to 2,000
# documents). The system allocator gives it back.
pa.set_memory_pool(pa.system_memory_pool())


def batch_tables(documents: list[Document], rejects: list[Reject]) -> dict[str, pa.Table]:
    """The rows of a batch by folder (`documents/published_month=2002-07`, `rejects`), typed
    by the derived Arrow schemas."""
    rows: dict[str, list[dict[str, Any]]] = {"rejects": [r.model_dump() for r in rejects]}
    for document in documents:
        month = month_of(document.published_at)
        rows.setdefault(partition("documents", month), []).append(document.model_dump())
        mentions = rows.setdefault(partition("entities", month), [])
        extra = {"doc_id": document.doc_id, "language": document.language}
        mentions.extend({**entity.model_dump(), **extra} for entity in document.entities)
    return {
        folder: pa.Table.from_pylist(folder_rows, schema=OUTPUT_SCHEMAS[folder.split("/")[0]])
        for folder, folder_rows in rows.items()
    }


def export_batch(documents: list[Document], rejects: list[Reject], output: Path) -> list[str]:
    """Write the batch's non-empty tables; returns their paths relative to `output`.

    Entity mentions are written before their documents, so a document row on disk always has
    its mentions beside it (the next run skips a document it finds). A part that is already
    there is only touched: its name is the hash of its content, and the run's parts are the
    ones `tasks.output.finalize_output` keeps for their sources.
    """
    rejects = _one_row_per_source(documents, rejects)
    name = part_file_name(documents, rejects)
    tables = batch_tables(documents, rejects)
    parts = []
    # Mentions first (sorted, `entities/...` before `documents/...`), then documents, rejects.
    for folder in sorted(tables, key=lambda folder: (not folder.startswith("entities"), folder)):
        if tables[folder].num_rows == 0:
            continue
        path = output / folder / name
        if path.exists():
            path.touch()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(tables[folder], path)
        parts.append(f"{folder}/{name}")
    return parts


def _one_row_per_source(documents: list[Document], rejects: list[Reject]) -> list[Reject]:
    """The rejects of sources the batch holds no row of yet: fetch rejects a repeated source
    (`duplicate_source`, counted in its log) under the source of the copy it keeps, and the
    output keeps one row per source, that copy's."""
    seen = {document.source for document in documents}
    kept = []
    for reject in rejects:
        if reject.source not in seen:
            seen.add(reject.source)
            kept.append(reject)
    return kept


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
