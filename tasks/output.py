"""A run against the output: what to process, and how the run's parts join what is there.

Runs are incremental. `plan_inputs` skips files unchanged since the run that processed them
(size and modification time, kept in `OUT/_state/inputs.parquet`), fetch drops documents whose
content is already in `documents/`, and `finalize_output` makes a run's new rows replace the
older rows of the same sources, so the datasets keep one row per document.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.arrow import OUTPUT_SCHEMAS
from schemas.models import EntityKind
from schemas.run import RunSummary
from tasks.common import RETRY_OPTIONS, doc_id_for
from tasks.entity_index import ENTITY_INDEX, no_pairs, pairs, update_index
from tasks.http import is_url
from tasks.layout import (
    STATE,
    TEMPORARY_SUFFIX,
    mentions_of,
    older_layout,
    part_file_name,
    part_paths,
    read_dataset,
    read_manifest,
    total_rows,
    write_atomically,
    write_manifest,
)
from tasks.site_furniture import fold_memory
from tasks.state import Fingerprint, placed, read_inputs, record_inputs, record_sources

TOP_ENTITIES = 10
# Bookkeeping that a full refresh clears along with the datasets.
_BOOKKEEPING = (STATE, "_http", "_downloads", ENTITY_INDEX)


def _fingerprint(location: str) -> Fingerprint | None:
    try:
        stat = os.stat(location)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class Plan(NamedTuple):
    todo: list[str]
    unchanged: list[str]
    deferred: list[str]  # over `max_documents`: left for the next run
    fingerprints: dict[str, Fingerprint]  # of the files in `todo`


def plan_inputs(locations: list[str], output: Path, max_documents: int | None = None) -> Plan:
    """Which inputs this run processes.

    A file is unchanged when its size and modification time are those recorded when a run
    processed it. URLs are always processed: a conditional request tells. Past
    `max_documents` inputs to process, the rest are deferred to the next run.
    """
    if older := older_layout(output):
        raise ValueError(
            f"{output} was written by an older docpipe ({older[0].relative_to(output)} is not in "
            "a published_month= folder): run once with --full-refresh to rebuild it"
        )
    known = read_inputs(output, [loc for loc in locations if not is_url(loc)])
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
    deferred = todo[max_documents:] if max_documents is not None else []
    for location in deferred:
        fingerprints.pop(location, None)
    return Plan(todo[: len(todo) - len(deferred)], unchanged, deferred, fingerprints)


def reset_output(output: Path) -> list[str]:
    """Delete the datasets and bookkeeping of earlier runs (a full refresh)."""
    removed = []
    for name in (*OUTPUT_SCHEMAS, *_BOOKKEEPING):
        if (output / name).exists():
            shutil.rmtree(output / name)
            removed.append(name)
    return removed


def _unit(part: str) -> tuple[str, str]:
    """(dataset, path within it) of a part: `documents/published_month=2002-07/part-x.parquet`
    holds the same documents' mentions as `entities/published_month=2002-07/part-x.parquet`."""
    dataset, unit = part.split("/", 1)
    return dataset, unit


def _newest_first(output: Path, part: str) -> tuple[int, str]:
    return -(output / part).stat().st_mtime_ns, part


def finalize_output(output: Path) -> list[str]:
    """Keep one row per input across the whole output, the newest; remove temporary files;
    bring the manifest, the source index and the entity index up to date.

    The parts on disk that the manifest does not list are new: this run's, or what a crash
    left. Their documents and rejects replace the rows of the same source in the settled
    parts (found through the source index, `tasks.state`, not by reading the output) and in
    older new parts (the newest part wins: export touches a part it finds already written).
    A part that loses rows is rewritten under a new name, entities first, then documents or
    rejects, then the old files go: a crash leaves rows twice or orphaned, never lost, and the
    next finalize settles them. The manifest is written last. Returns the parts rewritten or
    removed.
    """
    manifest = read_manifest(output)
    on_disk = {part for dataset in OUTPUT_SCHEMAS for part in part_paths(output, dataset)}
    changed = []
    documents = {mentions_of(part) for part in on_disk}
    for part in sorted(on_disk):  # mentions whose document part never came or went
        if part.startswith("entities/") and part not in documents:
            (output / part).unlink()
            on_disk.discard(part)
            changed.append(part)
    settled = {part: rows for part, rows in manifest.items() if part in on_disk}
    new = sorted(on_disk - manifest.keys(), key=lambda part: _newest_first(output, part))
    keyed = [part for part in new if not part.startswith("entities/")]
    stale: dict[str, set[str]] = {}  # part -> the doc_ids of its rows that newer rows replace
    seen: set[str] = set()
    for part in keyed:
        for doc_id in source_keys(output, part)["doc_id"].to_pylist():
            if doc_id in seen:
                stale.setdefault(part, set()).add(doc_id)
            seen.add(doc_id)
    older = placed(output, seen, set(settled))
    for part, doc_id in zip(older["part"].to_pylist(), older["doc_id"].to_pylist(), strict=True):
        stale.setdefault(part, set()).add(doc_id)
    renamed: dict[str, str | None] = {}  # documents units rewritten: old -> new (None: empty)
    dropped = [no_pairs()]
    fresh = {part for part in new if part not in stale}
    for part, doc_ids in sorted(stale.items()):
        kept, gone = _rewrite(output, part, doc_ids)
        unit = _unit(part)[1]
        if mentions_of(part):
            renamed[unit] = _unit(kept)[1] if kept else None
            dropped.append(
                gone.append_column("part", pa.array([unit] * gone.num_rows, pa.string()))
            )
        for old, new_part in ((part, kept), (mentions_of(part), kept and mentions_of(kept))):
            if old in on_disk:
                changed.append(old)
                settled.pop(old, None)
                fresh.discard(old)
            if new_part and (output / new_part).exists():
                fresh.add(new_part)
    keyed_fresh = [part for part in sorted(fresh) if not part.startswith("entities/")]
    if keyed_fresh:
        record_sources(output, pa.concat_tables(source_keys(output, p) for p in keyed_fresh))
    for dataset in (*OUTPUT_SCHEMAS, STATE, ENTITY_INDEX):
        for leftover in (output / dataset).rglob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()
    write_manifest(output, {**settled, **{part: _rows(output, part) for part in fresh}})
    update_index(output, renamed, pa.concat_tables(dropped))
    return changed


def _rows(output: Path, part: str) -> int:
    rows: int = pq.read_metadata(output / part).num_rows
    return rows


def source_keys(output: Path, part: str) -> pa.Table:
    """The part's rows as the source index holds them: doc_id, source, content hash, part."""
    documents = _unit(part)[0] == "documents"
    table = pq.read_table(output / part, columns=["source", "content_sha256"][: 1 + documents])
    return pa.table(
        {
            "doc_id": _doc_ids(table),
            "source": table["source"],
            "content_sha256": (
                table["content_sha256"] if documents else pa.nulls(table.num_rows, pa.string())
            ),
            "part": pa.array([part] * table.num_rows, pa.string()),
        }
    )


def _doc_ids(table: pa.Table) -> pa.Array:
    """The key of each row of documents or rejects: the doc_id of its source."""
    return pa.array([doc_id_for(source) for source in table["source"].to_pylist()], pa.string())


def _rewrite(output: Path, part: str, doc_ids: set[str]) -> tuple[str | None, pa.Table]:
    """Write the part's rows but those of `doc_ids` under a new name (a documents part with
    its mentions, entities first), then remove the old files. Returns the new part (None if
    nothing is left) and the (name, document) pairs of the mentions that went."""
    dataset, unit = _unit(part)
    table = pq.read_table(output / part)
    leaving = pc.is_in(_doc_ids(table), value_set=pa.array(sorted(doc_ids), pa.string()))
    kept = {dataset: table.filter(pc.invert(leaving))}
    gone = no_pairs().drop_columns(["part"])
    mentions = output / "entities" / unit
    if dataset == "documents" and mentions.exists():
        entities = pq.read_table(mentions)
        departing = pc.is_in(entities["doc_id"], value_set=table.filter(leaving)["doc_id"])
        kept["entities"] = entities.filter(pc.invert(departing))
        gone = pairs(entities.filter(departing), table.filter(leaving))
    kept_sources = sorted(kept[dataset]["source"].to_pylist())
    new_unit = str(Path(unit).with_name(part_file_name(unit, kept_sources)))
    for name in ("entities", dataset):
        if name in kept and kept[name].num_rows and kept[dataset].num_rows:
            write_atomically(kept[name], output / name / new_unit)
    for name in (dataset, "entities"):
        old = output / name / unit
        if name in kept and old.exists() and new_unit != unit:
            old.unlink()
    return (f"{dataset}/{new_unit}" if kept[dataset].num_rows else None), gone


def _by_dataset(parts: set[str]) -> dict[str, list[str]]:
    return {d: [p for p in sorted(parts) if p.startswith(f"{d}/")] for d in OUTPUT_SCHEMAS}


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    counts = pc.value_counts(table[column]).to_pylist()
    return dict(sorted((row["values"], row["counts"]) for row in counts))


def summarize(
    output: Path, new_parts: set[str], unchanged: int, deferred: int = 0, failed: int = 0
) -> RunSummary:
    """What this run wrote (read back from its parts), what it skipped, and the totals."""
    parts = _by_dataset(new_parts)
    documents = read_dataset(output, "documents", ["language"], parts["documents"])
    rejects = read_dataset(output, "rejects", ["reason"], parts["rejects"])
    entities = read_dataset(output, "entities", ["canonical", "label", "kind"], parts["entities"])
    named = entities.filter(pc.equal(entities["kind"], EntityKind.NAME.value))
    mentions = Counter(zip(named["canonical"].to_pylist(), named["label"].to_pylist(), strict=True))
    return RunSummary(
        output=str(output),
        inputs=documents.num_rows + rejects.num_rows + unchanged + deferred + failed,
        documents=documents.num_rows,
        rejects=rejects.num_rows,
        unchanged=unchanged,
        deferred=deferred,
        failed=failed,
        rejects_by_reason=_counts(rejects, "reason"),
        documents_by_language=_counts(documents, "language"),
        top_entities=[(text, label, n) for (text, label), n in mentions.most_common(TOP_ENTITIES)],
        total_documents=total_rows(output, "documents"),
        total_rejects=total_rows(output, "rejects"),
    )


@task(name="plan", task_run_name="plan {output}", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def plan_run(
    locations: list[str], output: Path, full_refresh: bool, max_documents: int | None
) -> Plan:
    """Skip the files unchanged since the last run; a full refresh first clears the output."""
    logger = get_run_logger()
    if full_refresh:
        logger.info("full refresh: removed %s", reset_output(output) or "nothing")
    plan = plan_inputs(locations, output, max_documents)
    logger.info(
        "%d inputs to process, %d unchanged since the last run, %d left for the next run "
        "(max_documents)",
        len(plan.todo),
        len(plan.unchanged),
        len(plan.deferred),
    )
    return plan


@task(name="finalize", task_run_name="finalize {output}", cache_policy=NO_CACHE, **RETRY_OPTIONS)
def finalize(
    output: Path,
    new_parts: set[str],
    fingerprints: dict[str, Fingerprint],
    unchanged: int,
    deferred: int,
    failed: int,
) -> RunSummary:
    """Merge the run's parts into the output, remember its inputs, and summarise the run."""
    replaced = finalize_output(output)
    record_inputs(output, fingerprints)
    fold_memory(output)
    if replaced:
        get_run_logger().info("replaced older rows of re-processed sources in %s", replaced)
    return summarize(output, new_parts, unchanged, deferred, failed)
