"""Export: typed Parquet parts, written atomically, readable by DuckDB, pandas and Polars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
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
    documents = f"{tmp_path}/documents/*/*.parquet"
    relation = duckdb.sql(
        f"SELECT title, published_at, authors, entities[1].text FROM '{documents}'"
    )
    assert relation is not None
    row = relation.fetchall()[0]
    assert row[0] == "Title" and row[2] == ["Kim Ji-hoon"] and row[3] == "China"
    assert row[1].astimezone(UTC) == datetime(2002, 7, 18, 13, 21, tzinfo=UTC)
    frame = pd.read_parquet(tmp_path / "documents")
    assert str(frame["published_at"].dtype) == "datetime64[us, UTC]"
    entities = pl.read_parquet(f"{tmp_path}/entities/*/*.parquet")
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


def test_months_are_hive_partitions_that_queries_prune(tmp_path: Path) -> None:
    documents, rejects = make_batch()
    later = documents[0].model_copy(
        update={"source": "file:///later", "published_at": datetime(2004, 3, 2, tzinfo=UTC)}
    )
    undated = documents[0].model_copy(update={"source": "file:///undated", "published_at": None})
    export_batch([*documents, later, undated], rejects, tmp_path)
    folders = sorted(p.name for p in (tmp_path / "documents").iterdir())
    assert folders == [
        "published_month=2002-07",
        "published_month=2004-03",
        "published_month=undated",
    ]
    assert sorted(p.name for p in (tmp_path / "entities").iterdir()) == folders

    query = f"""SELECT count(*) FROM '{tmp_path}/documents/*/*.parquet'
        WHERE published_month BETWEEN '2004-01' AND '2004-12'"""
    count, analyzed = duckdb.sql(query), duckdb.sql("EXPLAIN ANALYZE " + query)
    assert count is not None and analyzed is not None
    assert count.fetchall() == [(1,)]
    plan = analyzed.fetchall()[0][1]
    assert "Total Files Read: 1" in plan and "published_month=2004-03" in plan
    dataset = ds.dataset(tmp_path / "documents", partitioning="hive")
    read = list(dataset.get_fragments(filter=ds.field("published_month") == "undated"))
    assert [Path(f.path).parent.name for f in read] == ["published_month=undated"]
    frame = pd.read_parquet(tmp_path / "documents")
    assert sorted(frame["published_month"].astype(str)) == ["2002-07", "2004-03", "undated"]
    months = pl.scan_parquet(f"{tmp_path}/documents/").select("published_month").collect()
    assert sorted(months["published_month"].to_list()) == ["2002-07", "2004-03", "undated"]
