"""`OUT/entity_index/index.parquet` on disk: where it is, the parts it counts, the rows of some
names, and its rewrite a slice at a time.

The rows are sorted by (canonical, label, language). A run reads only its own names' rows
(filtered as they are read), then streams the file into its replacement a slice at a time,
merging the new rows in key order: memory follows the run, not the number of names. Only a
failure to read the file is `Unreadable` (the caller rebuilds it); a failed write is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas.arrow import ENTITY_INDEX_SCHEMA
from tasks.layout import write_atomically

ENTITY_INDEX = "entity_index"
INDEX_FILE = "index.parquet"
KEY = ["canonical", "label", "language"]
_PARTS_KEY = b"docpipe.parts"  # metadata: the parts the index counts
_ROWS_AT_A_TIME = 65_536  # of the index, when a run rewrites it: its row groups too
T = TypeVar("T")


def index_path(output: Path) -> Path:
    return output / ENTITY_INDEX / INDEX_FILE


def counted_parts(output: Path) -> set[str] | None:
    """The parts the index on disk counts; None if there is none (or it is unreadable)."""
    try:
        metadata = pq.read_schema(index_path(output)).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    return set(json.loads(metadata.get(_PARTS_KEY, b"[]")))


def sorted_by_key(index: pa.Table) -> pa.Table:
    return index.sort_by([(name, "ascending") for name in KEY])


class Unreadable(Exception):
    """The index file fails to read (a damaged page): only a rebuild can replace it."""


def _index_file_read(read: Callable[[], T]) -> T:
    """`read()` of the index file; a read failure is `Unreadable` (a write's is not)."""
    try:
        return read()
    except (OSError, pa.ArrowException) as error:
        raise Unreadable(f"the entity index does not read: {error}") from error


def index_rows_of(output: Path, keys: pa.Table) -> pa.Table:
    """The index rows of the given names, filtered as the index is read."""
    if not index_path(output).exists():
        return ENTITY_INDEX_SCHEMA.empty_table()
    index = ds.dataset(index_path(output), schema=ENTITY_INDEX_SCHEMA, format="parquet")
    wanted = pc.field("canonical").isin(pc.unique(keys["canonical"]))
    found = _index_file_read(lambda: index.to_table(filter=wanted))
    return found.join(keys, KEY, join_type="inner").select(ENTITY_INDEX_SCHEMA.names)


def rewritten(output: Path, keys: pa.Table, rows: pa.Table) -> Iterator[pa.Table]:
    """The index with the touched names' rows replaced by `rows`, in key order, a slice of
    the index at a time: memory follows the change, not the index."""
    pending = rows
    if index_path(output).exists():
        index = _index_file_read(lambda: pq.ParquetFile(index_path(output)))
        batches = index.iter_batches(batch_size=_ROWS_AT_A_TIME)
        while (batch := _index_file_read(lambda: next(batches, None))) is not None:
            if not batch.num_rows:
                continue
            slice_ = pa.Table.from_batches([batch]).cast(ENTITY_INDEX_SCHEMA)
            untouched = slice_.join(keys, KEY, join_type="left anti").cast(ENTITY_INDEX_SCHEMA)
            due = _up_to(pending, {name: slice_[name][-1].as_py() for name in KEY})
            yield sorted_by_key(pa.concat_tables([untouched, pending.filter(due)]))
            pending = pending.filter(pc.invert(due))
    yield pending


def _up_to(rows: pa.Table, last: dict[str, str]) -> pa.ChunkedArray:
    """Which rows' keys come at or before `last` in the index's order (by canonical, then
    label, then language)."""
    at_most = pc.less_equal(rows[KEY[-1]], last[KEY[-1]])
    for name in reversed(KEY[:-1]):
        at_most = pc.or_(
            pc.less(rows[name], last[name]), pc.and_(pc.equal(rows[name], last[name]), at_most)
        )
    return at_most


def write_index(output: Path, index: pa.Table | Iterable[pa.Table], parts: set[str]) -> None:
    """Write the index (whole, or streamed a slice at a time) with the parts it counts."""
    schema = ENTITY_INDEX_SCHEMA.with_metadata({_PARTS_KEY: json.dumps(sorted(parts)).encode()})
    slices = [index] if isinstance(index, pa.Table) else index
    index_path(output).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(
        (each.cast(schema) for each in slices), index_path(output), row_group_size=_ROWS_AT_A_TIME
    )
