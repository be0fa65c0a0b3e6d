"""Export: typed Parquet parts, written atomically, readable by DuckDB, pandas and Polars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq

from schemas.arrow import OUTPUT_SCHEMAS
from tasks.export import export_batch
from tests.data.batches import make_batch


def test_parts_match_the_derived_schemas_and_leave_no_temporary_file(tmp_path: Path) -> None:
    parts = export_batch(*make_batch(), tmp_path)
    assert len(parts) == 3
    for part in parts:
        dataset = part.split("/")[0]
        assert pq.read_schema(tmp_path / part).remove_metadata() == OUTPUT_SCHEMAS[dataset]
        assert pq.ParquetFile(tmp_path / part).metadata.row_group(0).column(0).compression == "ZSTD"
    assert not list(tmp_path.rglob("*.tmp"))


def test_same_batch_rewrites_nothing_but_becomes_the_newest(tmp_path: Path) -> None:
    first = export_batch(*make_batch(), tmp_path)
    before = {p: (tmp_path / p).stat() for p in first}
    assert export_batch(*make_batch(), tmp_path) == first
    after = {p: (tmp_path / p).stat() for p in first}
    assert all(after[p].st_ino == before[p].st_ino for p in first)  # the same file
    assert all(after[p].st_mtime_ns >= before[p].st_mtime_ns for p in first)


def test_output_is_read_without_glue(tmp_path: Path) -> None:
    export_batch(*make_batch(), tmp_path)
    documents = f"{tmp_path}/documents/*.parquet"
    relation = duckdb.sql(
        f"SELECT title, published_at, authors, entities[1].text FROM '{documents}'"
    )
    assert relation is not None
    row = relation.fetchall()[0]
    assert row[0] == "Title" and row[2] == ["Kim Ji-hoon"] and row[3] == "China"
    assert row[1].astimezone(UTC) == datetime(2002, 7, 18, 13, 21, tzinfo=UTC)
    frame = pd.read_parquet(tmp_path / "documents")
    assert str(frame["published_at"].dtype) == "datetime64[us, UTC]"
    entities = pl.read_parquet(f"{tmp_path}/entities/*.parquet")
    assert entities.columns == [
        "doc_id",
        "text",
        "label",
        "start",
        "end",
        "canonical",
        "kind",
        "language",
    ]
    assert entities["text"].to_list() == ["China", "Russia"]
