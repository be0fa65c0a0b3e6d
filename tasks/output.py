"""A run against the output: what to process, and how the run's parts join what is there.

Runs are incremental. `plan_inputs` skips files unchanged since the run that processed them
(size and modification time, kept in `OUT/_state/inputs/`), fetch drops documents whose
content is already in `documents/`, and `finalize_output` makes a run's new rows replace the
older rows of the same sources, so the datasets keep one row per document.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from itertools import count
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
from tasks.common import RETRY_OPTIONS, Refused, doc_id_for
from tasks.entity_index import empty_pairs, no_pairs, pairs, update_index
from tasks.entity_index_file import ENTITY_INDEX
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
_COUNTS = pa.schema([("canonical", pa.string()), ("label", pa.string()), ("mentions", pa.int64())])
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
        raise Refused(
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


def finalize_output(output: Path, touched: Iterable[str] = ()) -> dict[str, str | None]:
    """Keep one row per input across the whole output, the newest; remove temporary files;
    bring the manifest, the source index and the entity index up to date.

    The parts on disk that the manifest does not list are new: a run's (or a compaction's),
    or what a crash left; so are the `touched` ones, parts a run found already written. Their
    documents and rejects replace the rows of the same source in the settled parts (found
    through the source index, `tasks.state`, not by reading the output) and in older new
    parts (the last written wins). A part that loses rows is rewritten under a new name,
    entities first, then documents or rejects, then the old files go: a crash leaves rows
    twice or orphaned, never lost, and the next finalize settles them. The manifest is written
    last. Returns the parts rewritten or removed, with their new name (None: removed).
    """
    manifest = read_manifest(output)
    on_disk = {part for dataset in OUTPUT_SCHEMAS for part in part_paths(output, dataset)}
    moved: dict[str, str | None] = {}
    documents = {mentions_of(part) for part in on_disk}
    for part in sorted(on_disk):  # mentions whose document part never came or went
        if part.startswith("entities/") and part not in documents:
            (output / part).unlink()
            moved[part] = None
    on_disk -= moved.keys()
    settled = {p: rows for p, rows in manifest.items() if p in on_disk and p not in touched}
    new = sorted(on_disk - settled.keys(), key=lambda part: _newest_first(output, part))
    stale: dict[str, set[str]] = {}  # part -> the doc_ids of its rows that newer rows replace
    seen: set[str] = set()
    for part in new:
        if not part.startswith("entities/"):
            ids = set(_source_keys(output, part)["doc_id"].to_pylist())
            if ids & seen:
                stale[part] = ids & seen
            seen |= ids
    older = placed(output, seen, set(settled))
    for part, doc_id in zip(older["part"].to_pylist(), older["doc_id"].to_pylist(), strict=True):
        stale.setdefault(part, set()).add(doc_id)
    renamed: dict[str, str | None] = {}  # documents units rewritten: old -> new (None: empty)
    dropped = [no_pairs()]
    taken = set(on_disk)  # names a rewrite may not write to: another part's rows are there
    for part, doc_ids in sorted(stale.items()):
        replaced, gone = _rewrite(output, part, doc_ids, taken)
        moved.update(replaced)
        taken.update(new for new in replaced.values() if new)
        if mentions_of(part):
            unit, now = _unit(part)[1], replaced[part]
            renamed[unit] = _unit(now)[1] if now else None
            dropped.append(
                gone.append_column("part", pa.array([unit] * gone.num_rows, pa.string()))
            )
    settled = {part: rows for part, rows in settled.items() if part not in moved}
    fresh = sorted({p for p in new if p not in moved} | {p for p in moved.values() if p})
    keyed = [part for part in fresh if not part.startswith("entities/")]
    if keyed:
        record_sources(output, pa.concat_tables(_source_keys(output, part) for part in keyed))
    for dataset in (*OUTPUT_SCHEMAS, STATE, ENTITY_INDEX):
        for leftover in (output / dataset).rglob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()
    write_manifest(output, {**settled, **{part: _rows(output, part) for part in fresh}})
    update_index(output, renamed, pa.concat_tables(dropped))
    return moved


def _rows(output: Path, part: str) -> int:
    rows: int = pq.read_metadata(output / part).num_rows
    return rows


def _source_keys(output: Path, part: str) -> pa.Table:
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


def _rewrite(
    output: Path, part: str, doc_ids: set[str], taken: set[str]
) -> tuple[dict[str, str | None], pa.Table]:
    """Write the part's rows but those of `doc_ids` under a new name (a documents part with
    its mentions, entities first), then remove the old files. Returns each old file's new
    part (None: nothing left) and the (name, document) pairs of the mentions that went.

    The name is the hash of what the part keeps, unless a part of that name is `taken` (a
    re-exported batch rewritten as before, or a crashed rewrite's): then the next free one."""
    unit = _unit(part)[1]
    table = pq.read_table(output / part)
    leaving = pc.is_in(_doc_ids(table), value_set=pa.array(sorted(doc_ids), pa.string()))
    kept = {part: table.filter(pc.invert(leaving))}
    gone = empty_pairs()
    mentions = mentions_of(part)
    if mentions and (output / mentions).exists():
        entities = pq.read_table(output / mentions)
        departing = pc.is_in(entities["doc_id"], value_set=table.filter(leaving)["doc_id"])
        kept = {mentions: entities.filter(pc.invert(departing)), **kept}  # mentions first
        gone = pairs(entities.filter(departing), table.filter(leaving))
    sources = sorted(kept[part]["source"].to_pylist())
    name = next(
        name
        for name in (part_file_name(unit, sources, attempt) for attempt in count())
        if not any(str(Path(old).with_name(name)) in taken for old in kept)
    )
    moved: dict[str, str | None] = {}
    for old, rows in kept.items():
        new = str(Path(old).with_name(name)) if kept[part].num_rows else None
        if new and rows.num_rows:
            write_atomically(rows, output / new)
        moved[old] = new if new and rows.num_rows else None
    for old in reversed(kept):  # documents (or rejects) first: mentions never outlive them
        (output / old).unlink()
    return moved, gone


def _by_dataset(parts: set[str]) -> dict[str, list[str]]:
    return {d: [p for p in sorted(parts) if p.startswith(f"{d}/")] for d in OUTPUT_SCHEMAS}


def _counts(table: pa.Table, column: str) -> dict[str, int]:
    counts = pc.value_counts(table[column]).to_pylist()
    return dict(sorted((row["values"], row["counts"]) for row in counts))


def _top_entities(output: Path, parts: list[str]) -> list[tuple[str, str, int]]:
    """The most mentioned names of the parts, counted a part at a time (a run's mentions can
    be millions)."""
    name = ["canonical", "label"]
    counted = [_COUNTS.empty_table()]
    for part in parts:
        entities = pq.read_table(output / part, columns=[*name, "kind"])
        named = entities.filter(pc.equal(entities["kind"], EntityKind.NAME.value))
        by_name = named.group_by(name).aggregate([("kind", "count")])
        counted.append(by_name.rename_columns([*name, "mentions"]).cast(_COUNTS))
    total = pa.concat_tables(counted).group_by(name).aggregate([("mentions", "sum")])
    top = total.sort_by([("mentions_sum", "descending"), ("canonical", "ascending")])
    return [
        (row["canonical"], row["label"], row["mentions_sum"])
        for row in top[:TOP_ENTITIES].to_pylist()
    ]


def summarize(
    output: Path, new_parts: set[str], unchanged: int, deferred: int = 0, failed: int = 0
) -> RunSummary:
    """What this run wrote (read back from its parts), what it skipped, and the totals."""
    parts = _by_dataset(new_parts)
    documents = read_dataset(output, "documents", ["language"], parts["documents"])
    rejects = read_dataset(output, "rejects", ["reason"], parts["rejects"])
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
        top_entities=_top_entities(output, parts["entities"]),
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
    moved = finalize_output(output, new_parts)
    record_inputs(output, fingerprints)
    fold_memory(output)
    if moved:
        get_run_logger().info("rewrote the parts that held older rows: %s", moved)
    written = {moved.get(part, part) for part in new_parts}
    return summarize(output, {part for part in written if part}, unchanged, deferred, failed)
