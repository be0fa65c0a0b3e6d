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
from tasks.common import RETRY_OPTIONS, content_hash
from tasks.entity_index import ENTITY_INDEX, no_pairs, pairs, update_index
from tasks.http import is_url
from tasks.layout import (
    PART_PREFIX,
    PART_SUFFIX,
    STATE,
    TEMPORARY_SUFFIX,
    Fingerprint,
    read_dataset,
    read_inputs,
    record_inputs,
    total_rows,
    write_atomically,
)
from tasks.site_furniture import fold_memory

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


def _units(output: Path) -> dict[str, dict[str, Path]]:
    """Part name -> {dataset: path}: one export writes a batch's datasets under one name."""
    units: dict[str, dict[str, Path]] = {}
    for dataset in OUTPUT_SCHEMAS:
        for part in (output / dataset).glob(f"{PART_PREFIX}*{PART_SUFFIX}"):
            units.setdefault(part.name, {})[dataset] = part
    return units


def _newest_first(unit: dict[str, Path]) -> tuple[int, str]:
    written = [unit[d].stat().st_mtime_ns for d in ("documents", "rejects") if d in unit]
    return -max(written, default=0), next(iter(unit.values())).name


def finalize_output(output: Path) -> list[str]:
    """Keep one row per input across the whole output, the newest; remove temporary files;
    bring the entity index up to date.

    Documents and rejects are matched by `source` and the newest part wins (a run's own parts
    are the newest: export touches a part it finds already written). Entity mentions live in
    the part of the same name as their document and go with it. The whole output is settled,
    not only this run's parts, so the run after a crash mends what the crash left. A part is
    rewritten new-before-old (entities, then documents and rejects, then the old files
    removed): a crash at any point leaves rows twice or orphaned, never lost, and the next
    finalize settles them. Returns the parts rewritten or removed.
    """
    seen: set[str] = set()
    changed: list[str] = []
    renamed: dict[str, str | None] = {}  # the rewritten parts that held documents
    dropped = [no_pairs()]
    written: set[Path] = set()
    units = _units(output)
    for name, unit in units.items():  # first, before any rewrite can reuse their names
        if "entities" in unit and "documents" not in unit:
            unit.pop("entities").unlink()  # mentions whose document row was never written
            changed.append(f"entities/{name}")
    units = {name: unit for name, unit in units.items() if unit}
    for name, unit in sorted(units.items(), key=lambda item: _newest_first(item[1])):
        settled = _rows_to_keep(unit, seen)
        if settled is not None:
            kept, gone = settled
            new_name = _rewrite(output, name, unit, kept, written)
            if "documents" in unit:
                renamed[name] = new_name
            part = pa.array([name] * gone.num_rows, pa.string())
            dropped.append(gone.append_column("part", part))
            changed.extend(f"{dataset}/{name}" for dataset in unit)
    for dataset in (*OUTPUT_SCHEMAS, STATE, ENTITY_INDEX):
        for leftover in (output / dataset).glob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()
    update_index(output, renamed, pa.concat_tables(dropped))
    return changed


def _rows_to_keep(
    unit: dict[str, Path], seen: set[str]
) -> tuple[dict[str, pa.Table], pa.Table] | None:
    """The unit's rows whose source no newer part holds, and the (name, document) pairs of
    the mentions that go (None: it keeps all its rows); adds to `seen`."""
    stale: dict[str, pa.Array] = {}
    for dataset in ("documents", "rejects"):
        if dataset in unit:
            sources = pq.read_table(unit[dataset], columns=["source"])["source"].to_pylist()
            stale[dataset] = pa.array([source in seen for source in sources], pa.bool_())
            seen.update(sources)
    if not any(pc.any(mask).as_py() for mask in stale.values()):
        return None
    tables = {dataset: pq.read_table(unit[dataset]) for dataset in stale}
    kept = {dataset: tables[dataset].filter(pc.invert(mask)) for dataset, mask in stale.items()}
    gone = no_pairs().drop_columns(["part"])
    if "entities" in unit:
        dropped_documents = tables["documents"].filter(stale["documents"])
        entities = pq.read_table(unit["entities"])
        leaving = pc.is_in(entities["doc_id"], value_set=dropped_documents["doc_id"])
        kept["entities"] = entities.filter(pc.invert(leaving))
        gone = pairs(entities.filter(leaving), dropped_documents)
    return kept, gone


def _rewrite(
    output: Path, name: str, unit: dict[str, Path], kept: dict[str, pa.Table], written: set[Path]
) -> str | None:
    """Write the kept rows under a new part name, entities first, then remove the old part
    (never a file this finalize wrote: a crashed rewrite may have left one under the name a
    rewrite now writes again). Returns the new name if it holds documents."""
    sources = sorted(
        source
        for dataset in ("documents", "rejects")
        if dataset in kept
        for source in kept[dataset]["source"].to_pylist()
    )
    renamed = f"{PART_PREFIX}{content_hash(name, sources)[:20]}{PART_SUFFIX}"
    for dataset in ("entities", "documents", "rejects"):
        if dataset in kept and kept[dataset].num_rows:
            write_atomically(kept[dataset], output / dataset / renamed)
            written.add(output / dataset / renamed)
    for dataset in ("documents", "rejects", "entities"):
        if dataset in unit and unit[dataset] not in written:
            unit[dataset].unlink()
    return renamed if "documents" in kept and kept["documents"].num_rows else None


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
    fold_memory(output)
    if replaced:
        get_run_logger().info("replaced older rows of re-processed sources in %s", replaced)
    record_inputs(output, fingerprints)
    return summarize(output, new_parts, unchanged, deferred, failed)
