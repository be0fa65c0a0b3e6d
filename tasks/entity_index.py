"""`OUT/entity_index/`: one row per named entity (canonical name, label, language) across the
whole output, with its documents, mentions and first and last publication time.

Finalize keeps it current from what each run changes, not by a rescan: the mentions of the
parts added since the index was written count in, the mentions finalize drops with the rows
of re-processed or removed documents count out. Only a name whose first or last publication
time left with a dropped document is recounted, from the output, for that name alone. A run
reads the index rows of the names it touches, then rewrites the file a slice at a time
(`tasks.entity_index_file`): memory follows the run, not the archive's names.

The index records the parts it counts (in its Parquet metadata). When they are not the parts
on disk (a crash came between the parts and the index), it is rebuilt from the whole output:
slower once, never wrong. `docpipe verify` rebuilds it in memory and compares.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from schemas.arrow import ENTITY_INDEX_SCHEMA, OUTPUT_SCHEMAS
from schemas.models import EntityKind
from tasks.entity_index_file import (
    KEY,
    Unreadable,
    counted_parts,
    index_path,
    index_rows_of,
    rewritten,
    sorted_by_key,
    write_index,
)
from tasks.layout import PARTITION, UNDATED, month_of, part_paths

# A name's mentions in one document: (name, doc_id) pairs with their count and date.
_PAIR = [*KEY, "doc_id"]
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_log = logging.getLogger(__name__)


def document_parts(output: Path) -> set[str]:
    """The parts that hold documents (by their path in `documents/`, the same as their
    mentions' in `entities/`): the ones whose mentions the index counts."""
    return {part.split("/", 1)[1] for part in part_paths(output, "documents")}


def pairs(entities: pa.Table, documents: pa.Table) -> pa.Table:
    """(canonical, label, language, doc_id) -> mentions and the document's `published_at`,
    for the named entities (values are not indexed)."""
    named = entities.filter(pc.equal(entities["kind"], EntityKind.NAME.value))
    counted = _named_columns(
        named.group_by(_PAIR).aggregate([("start", "count")]), {"start_count": "mentions"}
    )
    dated = documents.select(["doc_id", "published_at"])
    joined = counted.join(dated, "doc_id", join_type="inner")
    return joined.select([*_PAIR, "mentions", "published_at"])


def _named_columns(table: pa.Table, names: dict[str, str]) -> pa.Table:
    """A `group_by` result with its aggregate columns renamed (by name, not position)."""
    return table.rename_columns([names.get(name, name) for name in table.column_names])


def pairs_of_parts(output: Path, names: set[str]) -> pa.Table:
    """The pairs of the given parts, as on disk, read a part at a time (pairs are fewer than
    mentions)."""
    return pa.concat_tables(
        [
            empty_pairs(),
            *(
                pairs(
                    _read(output, "entities", {name}, ["doc_id", *KEY, "kind", "start"]),
                    _read(output, "documents", {name}, ["doc_id", "published_at"]),
                )
                for name in sorted(names)
            ),
        ]
    )


def _read(output: Path, dataset: str, names: set[str], columns: list[str]) -> pa.Table:
    files = [str(output / dataset / name) for name in sorted(names)]
    files = [path for path in files if Path(path).exists()]
    return ds.dataset(files, schema=OUTPUT_SCHEMAS[dataset], format="parquet").to_table(
        columns=columns
    )


def empty_pairs() -> pa.Table:
    """No (name, document) pairs: the shape `pairs` returns."""
    return no_pairs().drop_columns(["part"])


def no_pairs() -> pa.Table:
    """No dropped pairs: the shape `update_index` takes them in (with the part they were in)."""
    return pa.table(
        {
            **{name: pa.array([], pa.string()) for name in _PAIR},
            "mentions": pa.array([], pa.int64()),
            "published_at": pa.array([], _TIMESTAMP),
            "part": pa.array([], pa.string()),
        }
    )


def aggregate(pairs_table: pa.Table) -> pa.Table:
    """Index rows from pairs: documents, mentions, first and last publication time."""
    grouped = pairs_table.group_by(KEY).aggregate(
        [
            ("doc_id", "count"),
            ("mentions", "sum"),
            ("published_at", "min"),
            ("published_at", "max"),
        ]
    )
    return _as_index(
        _named_columns(
            grouped,
            {
                "doc_id_count": "documents",
                "mentions_sum": "mentions",
                "published_at_min": "first",
                "published_at_max": "last",
            },
        )
    )


def _as_index(table: pa.Table) -> pa.Table:
    """Working rows (documents, mentions, first, last) as the index's sorted rows."""
    columns = {
        "canonical": table["canonical"],
        "label": table["label"],
        "language": table["language"],
        "documents": table["documents"],
        "mentions": table["mentions"],
        "first_published_at": table["first"],
        "last_published_at": table["last"],
    }
    return sorted_by_key(pa.table(columns).cast(ENTITY_INDEX_SCHEMA))


def rebuild(output: Path) -> pa.Table:
    """The index of the output as it is on disk, from every part."""
    return aggregate(pairs_of_parts(output, document_parts(output)))


def update_index(output: Path, renamed: dict[str, str | None], dropped: pa.Table) -> str:
    """Bring the index up to the parts on disk after finalize.

    `renamed`: the parts finalize rewrote, old name -> new name (None: no documents left);
    `dropped`: the pairs of the rows it removed, with the `part` they were in. Returns how
    the index was kept: "updated" (from the change), "rebuilt" or "unchanged".
    """
    on_disk = document_parts(output)
    counted = counted_parts(output)
    if counted is None:
        if index_path(output).exists():  # unreadable: start again from the whole output
            write_index(output, rebuild(output), on_disk)
            return "rebuilt"
        counted = set()
    carried = {new for new in (renamed.get(name, name) for name in counted) if new}
    if not carried <= on_disk:  # it counts parts that are gone: a crash came in between
        write_index(output, rebuild(output), on_disk)
        return "rebuilt"
    added = on_disk - carried
    if not added and not renamed and index_path(output).exists():
        return "unchanged"
    arriving = pairs_of_parts(output, added)
    in_counted = pc.is_in(dropped["part"], value_set=pa.array(sorted(counted), pa.string()))
    departing = dropped.filter(in_counted).drop_columns(["part"])
    try:
        keys, rows = _changed(output, arriving, departing)
        write_index(output, rewritten(output, keys, rows), on_disk)
        return "updated"
    except Unreadable as unreadable:  # past its footer: start again from the whole output
        _log.warning("%s: rebuilding the entity index from the whole output", unreadable)
        write_index(output, rebuild(output), on_disk)
        return "rebuilt"


def _changed(output: Path, arriving: pa.Table, departing: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The names the arriving and departing (name, document) pairs touch, and their new index
    rows (none for a name left with no document). A pair that leaves and comes back nets out
    but for its mentions; a name whose first or last date left with a document (and did not
    come back) is recounted from the output. Reads only the touched names' index rows."""
    change = pa.concat_tables([_signed(arriving, 1), _signed(departing, -1)])
    keys = change.select(KEY).group_by(KEY).aggregate([])
    current = _as_rows(index_rows_of(output, keys))
    merged = _named_columns(
        pa.concat_tables([current, change])
        .group_by(KEY)
        .aggregate([("documents", "sum"), ("mentions", "sum"), ("first", "min"), ("last", "max")]),
        {
            "documents_sum": "documents",
            "mentions_sum": "mentions",
            "first_min": "first",
            "last_max": "last",
        },
    )
    merged = merged.filter(pc.greater(merged["documents"], 0))
    dated = [*_PAIR, "published_at"]
    gone = departing.select(dated).join(arriving.select(dated), dated, join_type="left anti")
    stale = _extremes_gone(current, gone)
    if not stale.num_rows:
        return keys, _as_index(merged)
    kept = merged.join(stale, KEY, join_type="left anti")
    former = _named_columns(
        current.select([*KEY, "first", "last"]), {"first": "was_first", "last": "was_last"}
    )
    redated = _redated(output, merged.join(stale, KEY, join_type="inner").join(former, KEY))
    return keys, _as_index(pa.concat_tables([kept, redated.select(kept.column_names)]))


def _as_rows(index: pa.Table) -> pa.Table:
    """Index rows in the working shape that `_changed` sums."""
    return pa.table(
        {
            **{name: index[name] for name in KEY},
            "documents": index["documents"],
            "mentions": index["mentions"],
            "first": index["first_published_at"],
            "last": index["last_published_at"],
        }
    )


def _signed(pairs_table: pa.Table, sign: int) -> pa.Table:
    """Pairs as index rows to add (sign 1: a document each, their dates) or take away."""
    rows = pairs_table.num_rows
    dates = pairs_table["published_at"] if sign > 0 else pa.nulls(rows, _TIMESTAMP)
    return pa.table(
        {
            **{name: pairs_table[name] for name in KEY},
            "documents": pa.array([sign] * rows, pa.int64()),
            "mentions": pc.multiply(pairs_table["mentions"], sign).cast(pa.int64()),
            "first": dates,
            "last": dates,
        }
    )


def _extremes_gone(current: pa.Table, gone: pa.Table) -> pa.Table:
    """The names whose first or last date a departing document held, and which of the two."""
    joined = gone.select([*KEY, "published_at"]).join(current, KEY, join_type="inner")
    first = pc.fill_null(pc.equal(joined["published_at"], joined["first"]), False)
    last = pc.fill_null(pc.equal(joined["published_at"], joined["last"]), False)
    flagged = joined.select(KEY).append_column("first_gone", first).append_column("last_gone", last)
    held = flagged.filter(pc.or_(first, last))
    grouped = held.group_by(KEY).aggregate([("first_gone", "any"), ("last_gone", "any")])
    return _named_columns(grouped, {"first_gone_any": "first_gone", "last_gone_any": "last_gone"})


def _redated(output: Path, rows: pa.Table) -> pa.Table:
    """Merged index rows whose first or last date left (`first_gone`, `last_gone`, with the
    former `was_first`, `was_last`), with those dates found again in the output. A date
    that arrived earlier (later) than the one that left is the new one as it stands."""
    for column, later in (("first", True), ("last", False)):
        lost = pc.and_(rows[f"{column}_gone"], pc.equal(rows[column], rows[f"was_{column}"]))
        names = rows.filter(lost)
        found = _scan(output, names.select(KEY), names[column], column, later)
        dates = iter(found)
        values = [
            next(dates) if gone else value
            for gone, value in zip(lost.to_pylist(), rows[column].to_pylist(), strict=True)
        ]
        rows = rows.set_column(
            rows.schema.get_field_index(column), column, pa.array(values, _TIMESTAMP)
        )
    return rows


def _scan(
    output: Path, names: pa.Table, since: pa.ChunkedArray, column: str, later: bool
) -> list[datetime | None]:
    """The first (`later`: scanning forward) or last date of each name in the output, month by
    month from the month of `since` on, each name only as far as the first month that holds
    it: a name in every month costs one month's read, not the output's."""
    units = sorted(document_parts(output))
    months = sorted({unit.split("/", 1)[0] for unit in units} - {f"{PARTITION}={UNDATED}"})
    keys = [tuple(row.values()) for row in names.to_pylist()]
    pending = dict(
        zip(keys, (f"{PARTITION}={month_of(d)}" for d in since.to_pylist()), strict=True)
    )
    found: dict[tuple[str, ...], datetime] = {}
    for month in months if later else months[::-1]:
        if not pending:
            break
        due = [key for key, at in pending.items() if (at <= month if later else at >= month)]
        if not due:
            continue
        in_month = {unit for unit in units if unit.startswith(f"{month}/")}
        wanted = pa.table({k: [key[i] for key in due] for i, k in enumerate(KEY)})
        entities = _read(output, "entities", in_month, ["doc_id", *KEY, "kind", "start"])
        documents = _read(output, "documents", in_month, ["doc_id", "published_at"])
        counted = aggregate(pairs(entities.join(wanted, KEY, join_type="inner"), documents))
        for row in counted.to_pylist():
            key = tuple(row[k] for k in KEY)
            found[key] = row[f"{column}_published_at"]
            pending.pop(key)
    return [found.get(key) for key in keys]
