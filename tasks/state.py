"""What finalize and the next runs look up in `OUT/_state/`, one run's keys at a time.

    _state/inputs/    location -> size and modification time when a run processed it
    _state/sources/   source -> its doc_id, content hash and the part that holds its row

Both are sorted stores (`tasks.sorted_store`): a run appends its rows and reads only the
row groups of its own keys. A source's row moves when a part is rewritten or compacted;
the store keeps every place it was written to, and the manifest (the parts finalize
settled) tells which one holds it now.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tasks.layout import STATE, read_manifest
from tasks.sorted_store import SortedStore, newest

Fingerprint = tuple[int, int]  # a file's (size, modification time in ns)

INPUTS = SortedStore(
    Path("inputs"),
    "location",
    pa.schema(
        [
            pa.field("location", pa.string(), nullable=False),
            pa.field("size", pa.int64(), nullable=False),
            pa.field("mtime_ns", pa.int64(), nullable=False),
        ]
    ),
)
SOURCES = SortedStore(
    Path("sources"),
    "doc_id",
    pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),  # doc_id_for(source), rejects too
            pa.field("source", pa.string(), nullable=False),
            pa.field("content_sha256", pa.string()),  # null for a reject
            pa.field("part", pa.string(), nullable=False),
        ]
    ),
)


def store(output: Path, kind: SortedStore) -> SortedStore:
    return SortedStore(output / STATE / kind.folder, kind.key, kind.schema)


def read_inputs(output: Path, locations: Iterable[str]) -> dict[str, Fingerprint]:
    """The given files' fingerprints when a run last processed them (if one did)."""
    rows = newest(store(output, INPUTS).lookup(locations), "location")
    return {
        row["location"]: (row["size"], row["mtime_ns"])
        for row in rows.select(["location", "size", "mtime_ns"]).to_pylist()
    }


def record_inputs(output: Path, fingerprints: dict[str, Fingerprint]) -> None:
    """Remember the files a finished run processed, with the fingerprints planned for them."""
    store(output, INPUTS).append(
        pa.table(
            {
                "location": list(fingerprints),
                "size": [size for size, _ in fingerprints.values()],
                "mtime_ns": [mtime for _, mtime in fingerprints.values()],
            }
        )
    )


def placed(output: Path, doc_ids: Iterable[str], parts: set[str] | None = None) -> pa.Table:
    """The rows (doc_id, source, content_sha256, part) of the given documents and rejects in
    the settled parts (the manifest's, unless `parts` are given)."""
    live = set(read_manifest(output)) if parts is None else parts
    rows = store(output, SOURCES).lookup(doc_ids)
    held = pc.is_in(rows["part"], value_set=pa.array(sorted(live), pa.string()))
    return rows.filter(held).drop_columns(["sequence"])


def known_documents(output: Path, doc_ids: Iterable[str]) -> dict[str, str]:
    """doc_id -> content_sha256 of the given documents where the output holds them."""
    rows = placed(output, doc_ids)
    rows = rows.filter(pc.is_valid(rows["content_sha256"]))
    return dict(zip(rows["doc_id"].to_pylist(), rows["content_sha256"].to_pylist(), strict=True))


def record_sources(output: Path, rows: pa.Table) -> None:
    """Remember where the rows of documents and rejects (doc_id, source, content, part) are."""
    store(output, SOURCES).append(rows)


def compact_state(output: Path) -> None:
    """One file per store: each location's newest fingerprint, each source's settled row."""
    store(output, INPUTS).compact(lambda rows: newest(rows, "location"))
    live = pa.array(sorted(read_manifest(output)), pa.string())
    columns = SOURCES.schema.names

    def settled(rows: pa.Table) -> pa.Table:
        held = rows.filter(pc.is_in(rows["part"], value_set=live))
        return held.group_by(columns, use_threads=False).aggregate([]).select(columns)

    store(output, SOURCES).compact(settled)
