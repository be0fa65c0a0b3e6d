"""The output directory across runs: what is already there, and how a run's parts join it.

Runs are incremental. `plan_inputs` skips files unchanged since the run that processed them
(size and modification time, kept in `OUT/_state/inputs.parquet`), fetch drops documents whose
content is already in `documents/`, and `finalize_output` makes a run's new rows replace the
older rows of the same sources, so the datasets keep one row per document.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.arrow import OUTPUT_SCHEMAS
from schemas.models import RunSummary
from tasks.common import RETRY_OPTIONS, content_hash, doc_id_for
from tasks.export import PART_PREFIX, PART_SUFFIX, TEMPORARY_SUFFIX, write_atomically
from tasks.http import is_url

STATE = "_state"
INPUTS_FILE = "inputs.parquet"
TOP_ENTITIES = 10
_INPUTS_SCHEMA = pa.schema(
    [
        pa.field("location", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("mtime_ns", pa.int64(), nullable=False),
    ]
)
# Bookkeeping that a full refresh clears along with the datasets.
_BOOKKEEPING = (STATE, "_http", "_downloads")

Fingerprint = tuple[int, int]


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


def _fingerprint(location: str) -> Fingerprint | None:
    try:
        stat = os.stat(location)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def read_inputs(output: Path) -> dict[str, Fingerprint]:
    """Files processed by earlier runs, with the size and modification time they had then."""
    path = output / STATE / INPUTS_FILE
    if not path.exists():
        return {}
    rows = pq.read_table(path).to_pylist()
    return {row["location"]: (row["size"], row["mtime_ns"]) for row in rows}


def plan_inputs(
    locations: list[str], output: Path
) -> tuple[list[str], list[str], dict[str, Fingerprint]]:
    """(to process, unchanged, fingerprints of the files to process).

    A file is unchanged when its size and modification time are those recorded when a run
    processed it. URLs are always processed: a conditional request tells.
    """
    known = read_inputs(output)
    todo: list[str] = []
    unchanged: list[str] = []
    fingerprints: dict[str, Fingerprint] = {}
    for location in locations:
        fingerprint = None if is_url(location) else _fingerprint(location)
        if fingerprint is not None and known.get(location) == fingerprint:
            unchanged.append(location)
            continue
        todo.append(location)
        if fingerprint is not None:
            fingerprints[location] = fingerprint
    return todo, unchanged, fingerprints


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


def reset_output(output: Path) -> list[str]:
    """Delete the datasets and bookkeeping of earlier runs (a full refresh)."""
    removed = []
    for name in (*OUTPUT_SCHEMAS, *_BOOKKEEPING):
        if (output / name).exists():
            shutil.rmtree(output / name)
            removed.append(name)
    return removed


def _parts(output: Path, dataset: str) -> list[str]:
    return sorted(
        f"{dataset}/{p.name}" for p in (output / dataset).glob(f"{PART_PREFIX}*{PART_SUFFIX}")
    )


def finalize_output(output: Path, new_parts: set[str]) -> list[str]:
    """Make this run's rows replace older rows of the same sources; remove temporary files.

    Returns the older parts rewritten or removed. Documents and rejects are matched by
    `source`, entity mentions by `doc_id`: a document that changed, or that failed before
    and works now (or the other way round), keeps only its newest row.
    """
    new = _by_dataset(new_parts)
    documents = read_dataset(output, "documents", ["source", "doc_id"], new["documents"])
    rejected = read_dataset(output, "rejects", ["source"], new["rejects"])["source"].to_pylist()
    sources = set(documents["source"].to_pylist()) | set(rejected)
    doc_ids = set(documents["doc_id"].to_pylist()) | {doc_id_for(s) for s in rejected}
    superseded = {
        "source": pa.array(sorted(sources), type=pa.string()),
        "doc_id": pa.array(sorted(doc_ids), type=pa.string()),
    }
    changed = []
    for dataset in OUTPUT_SCHEMAS if sources else ():
        key = "doc_id" if dataset == "entities" else "source"
        for part in _parts(output, dataset):
            if part in new_parts:
                continue
            # The key column tells whether a part holds a superseded row; read the rest only then.
            keys = pq.read_table(output / part, columns=[key])[key]
            if not pc.any(pc.is_in(keys, value_set=superseded[key])).as_py():
                continue
            table = pq.read_table(output / part)
            kept = table.filter(pc.invert(pc.is_in(table[key], value_set=superseded[key])))
            (output / part).unlink()
            if kept.num_rows:
                name = f"{PART_PREFIX}{content_hash(part, sorted(sources))[:20]}{PART_SUFFIX}"
                write_atomically(kept, output / dataset / name)
            changed.append(part)
    for dataset in (*OUTPUT_SCHEMAS, STATE):
        for leftover in (output / dataset).glob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()
    return changed


def _by_dataset(parts: set[str]) -> dict[str, list[str]]:
    return {d: [p for p in sorted(parts) if p.startswith(f"{d}/")] for d in OUTPUT_SCHEMAS}


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    counts = pc.value_counts(table[column]).to_pylist()
    return dict(sorted((row["values"], row["counts"]) for row in counts))


def _total_rows(output: Path, dataset: str) -> int:
    return sum(pq.ParquetFile(output / part).metadata.num_rows for part in _parts(output, dataset))


def summarize(output: Path, new_parts: set[str], unchanged: int) -> RunSummary:
    """What this run wrote (read back from its parts), what it skipped, and the totals."""
    parts = _by_dataset(new_parts)
    documents = read_dataset(output, "documents", ["language"], parts["documents"])
    rejects = read_dataset(output, "rejects", ["reason"], parts["rejects"])
    entities = read_dataset(output, "entities", ["text", "label"], parts["entities"])
    mentions = Counter(
        zip(entities["text"].to_pylist(), entities["label"].to_pylist(), strict=True)
    )
    return RunSummary(
        output=str(output),
        inputs=documents.num_rows + rejects.num_rows + unchanged,
        documents=documents.num_rows,
        rejects=rejects.num_rows,
        unchanged=unchanged,
        rejects_by_reason=_counts(rejects, "reason"),
        documents_by_language=_counts(documents, "language"),
        top_entities=[(text, label, n) for (text, label), n in mentions.most_common(TOP_ENTITIES)],
        total_documents=_total_rows(output, "documents"),
        total_rejects=_total_rows(output, "rejects"),
    )


@task(name="plan", task_run_name="plan {output}", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def plan_run(
    locations: list[str], output: Path, full_refresh: bool
) -> tuple[list[str], list[str], dict[str, Fingerprint]]:
    """Skip the files unchanged since the last run; a full refresh first clears the output."""
    logger = get_run_logger()
    if full_refresh:
        logger.info("full refresh: removed %s", reset_output(output) or "nothing")
    todo, unchanged, fingerprints = plan_inputs(locations, output)
    logger.info("%d inputs to process, %d unchanged since the last run", len(todo), len(unchanged))
    return todo, unchanged, fingerprints


@task(name="finalize", task_run_name="finalize {output}", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def finalize(
    output: Path, new_parts: set[str], fingerprints: dict[str, Fingerprint], unchanged: int
) -> RunSummary:
    """Merge the run's parts into the output, remember its inputs, and summarise the run."""
    replaced = finalize_output(output, new_parts)
    if replaced:
        get_run_logger().info("replaced older rows of re-processed sources in %s", replaced)
    record_inputs(output, fingerprints)
    return summarize(output, new_parts, unchanged)
