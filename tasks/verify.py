"""`docpipe verify OUT`: check that a finished output directory keeps docpipe's promises.

Every part is readable Parquet with its dataset's schema, in its place (a document in the
folder of its publication month), each input is there once (one row per source across
documents and rejects, one row per `doc_id`), every entity mention belongs to a document of
the same part, the manifest lists the parts, the source index places every row, the entity
index counts exactly what the parts hold, and no temporary file is left. Used after runs and
crash tests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.arrow import ENTITY_INDEX_SCHEMA, OUTPUT_SCHEMAS
from tasks.common import doc_id_for
from tasks.entity_index import document_parts, rebuild
from tasks.entity_index_file import counted_parts, index_path
from tasks.layout import MONTHLY, PART_SUFFIX, PARTITION, STATE, month_of, part_paths, read_manifest
from tasks.state import placed

_SHOWN = 5  # duplicates or strays named per problem


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    parts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _named(values: list[str]) -> str:
    more = f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else ""
    return ", ".join(values[:_SHOWN]) + more


def _repeated(values: list[str]) -> list[str]:
    return sorted(value for value, n in Counter(values).items() if n > 1)


def _read_part(path: Path, dataset: str, found: Verification) -> pa.Table | None:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        found.problems.append(f"{path}: not readable as Parquet ({error})")
        return None
    if not table.schema.equals(OUTPUT_SCHEMAS[dataset]):
        found.problems.append(f"{path}: schema differs from the {dataset} schema")
        return None
    return table


def verify_output(output: Path) -> Verification:
    """Every problem found in `output`, with the row counts of what could be read."""
    found = Verification()
    if not any((output / dataset).is_dir() for dataset in OUTPUT_SCHEMAS):
        found.problems.append(
            f"{output}: no documents/, entities/ or rejects/: not a docpipe output"
        )
        return found
    sources: list[str] = []
    placed_rows: set[tuple[str, str]] = set()  # (doc_id, part) of documents and rejects
    doc_ids: dict[str, str] = {}  # doc_id -> unit (the part's path within its dataset)
    mentions: list[tuple[str, str]] = []  # (doc_id, unit)
    duplicate_ids: list[str] = []
    parts: dict[str, int] = {}
    for dataset in OUTPUT_SCHEMAS:
        expected = set(part_paths(output, dataset))
        for path in sorted((output / dataset).rglob("*")):
            part = str(path.relative_to(output))
            if path.is_dir() and dataset in MONTHLY and path.parent == output / dataset:
                continue
            if part not in expected:
                found.problems.append(f"{path}: not a part (a temporary or stray file)")
                continue
            table = _read_part(path, dataset, found)
            if table is None:
                continue
            found.parts += 1
            found.rows[dataset] += table.num_rows
            parts[part] = table.num_rows
            unit = part.split("/", 1)[1]
            if dataset == "entities":
                mentions.extend((doc_id, unit) for doc_id in table["doc_id"].to_pylist())
                continue
            sources.extend(table["source"].to_pylist())
            keys = [doc_id_for(source) for source in table["source"].to_pylist()]
            placed_rows.update((key, part) for key in keys)
            if dataset == "documents":
                _check_months(path, table, found)
                for doc_id in table["doc_id"].to_pylist():
                    if doc_id in doc_ids:
                        duplicate_ids.append(doc_id)
                    doc_ids[doc_id] = unit
    state = (output / STATE).rglob("*")
    strays = [str(p) for p in state if p.is_file() and p.suffix != PART_SUFFIX]
    if strays:
        found.problems.append(f"temporary or stray files in {output / STATE}: {_named(strays)}")
    if duplicate_ids:
        found.problems.append(f"doc_id in more than one row: {_named(sorted(duplicate_ids))}")
    if repeated := _repeated(sources):
        found.problems.append(f"source in more than one document or reject row: {_named(repeated)}")
    orphans = sorted({doc_id for doc_id, unit in mentions if doc_ids.get(doc_id) != unit})
    if orphans:
        found.problems.append(
            f"entity mentions without their document (same part): {_named(orphans)}"
        )
    if not found.problems:
        found.problems.extend(_state_problems(output, parts, placed_rows))
    if not found.problems:
        found.problems.extend(_index_problems(output))
    return found


def _check_months(path: Path, documents: pa.Table, found: Verification) -> None:
    month = path.parent.name.removeprefix(f"{PARTITION}=")
    if any(month_of(at) != month for at in documents["published_at"].to_pylist()):
        found.problems.append(f"{path}: holds documents published in another month")


def _state_problems(
    output: Path, parts: dict[str, int], placed_rows: set[tuple[str, str]]
) -> list[str]:
    """The manifest must list the parts on disk, the source index where each row is."""
    manifest = read_manifest(output)
    if manifest != parts:
        differ = sorted(set(manifest.items()) ^ set(parts.items()))
        named = _named([part for part, _ in differ])
        return [f"{output / STATE}: the manifest differs from the parts on disk: {named}"]
    indexed = placed(output, {doc_id for doc_id, _ in placed_rows})
    pairs = set(zip(indexed["doc_id"].to_pylist(), indexed["part"].to_pylist(), strict=True))
    if pairs != placed_rows:
        missing = sorted(doc_id for doc_id, _ in placed_rows - pairs)
        return [f"{output / STATE}: the source index does not place {_named(missing)}"]
    return []


def _index_problems(output: Path) -> list[str]:
    """The entity index must count exactly the parts on disk, as a rebuild would."""
    path = index_path(output)
    if not path.exists():
        return [f"{path}: missing (an output of an older docpipe: the next run builds it)"]
    try:
        index = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        return [f"{path}: not readable as Parquet ({error})"]
    if not index.schema.equals(ENTITY_INDEX_SCHEMA):
        return [f"{path}: schema differs from the entity index schema"]
    if counted_parts(output) != document_parts(output):
        return [f"{path}: counts other parts than those in documents/ (run docpipe again)"]
    if not index.equals(rebuild(output)):
        return [f"{path}: its counts differ from the entities and documents (run docpipe again)"]
    return []
