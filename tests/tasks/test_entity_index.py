"""The entity index: kept exact by finalize from each run's change, rebuilt after a crash."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tasks.entity_index
import tasks.entity_index_file
import tasks.layout
import tasks.output
from schemas.arrow import ENTITY_INDEX_SCHEMA
from schemas.models import Document, Entity, Reject
from tasks.entity_index import rebuild, update_index
from tasks.entity_index_file import counted_parts, index_path
from tasks.export import export_batch
from tasks.output import finalize_output
from tasks.verify import verify_output

JULY, AUGUST, MAY = (datetime(2002, month, 18, tzinfo=UTC) for month in (7, 8, 5))


def document(source: str, names: list[tuple[str, str]], published: datetime | None) -> Document:
    """A document mentioning each (canonical, label), plus a date that is no name."""
    entities = [
        Entity(text=name, label=label, start=i, end=i + 1, canonical=name, kind="name")
        for i, (name, label) in enumerate(names)
    ]
    entities.append(
        Entity(text="1", label="CARDINAL", start=99, end=100, canonical="1", kind="value")
    )
    return Document(
        doc_id=source, source=source, content_sha256=source, title=None, published_at=published,
        updated_at=None, authors=[], author_emails=[], editions=[], declared_language=None,
        text="x" * 100, language="en", language_score=1.0, language_method="langdetect",
        entities=entities, ner_model="m", processed_at=JULY, pipeline_version="0",
    )  # fmt: skip


def removed(source: str) -> Reject:
    return Reject(source=source, stage="fetch", reason="http_404", detail="gone")


def index_rows(
    output: Path,
) -> dict[tuple[str, str], tuple[int, int, datetime | None, datetime | None]]:
    rows = pq.read_table(index_path(output)).to_pylist()
    return {
        (r["canonical"], r["label"]): (
            r["documents"], r["mentions"], r["first_published_at"], r["last_published_at"]
        )
        for r in rows
    }  # fmt: skip


SCO, PUTIN = ("Shanghai Cooperation Organization", "ORG"), ("Putin", "PERSON")
# Runs into one output: (documents written, rejects written), then the index expected.
RUNS = [
    (
        [document("a", [SCO, SCO, PUTIN], JULY), document("b", [PUTIN], AUGUST)],
        [],
        {SCO: (1, 2, JULY, JULY), PUTIN: (2, 2, JULY, AUGUST)},
    ),
    (  # a is re-processed: SCO gone from it, and it moved to May
        [document("a", [PUTIN, PUTIN], MAY)],
        [],
        {PUTIN: (2, 3, MAY, AUGUST)},
    ),
    (  # an undated document
        [document("c", [SCO], None)],
        [],
        {SCO: (1, 1, None, None), PUTIN: (2, 3, MAY, AUGUST)},
    ),
    (  # b is gone (its page now answers 404): Putin's last date goes with it
        [],
        [removed("b")],
        {SCO: (1, 1, None, None), PUTIN: (1, 2, MAY, MAY)},
    ),
    (  # a comes back unchanged in a new part: nothing moves
        [document("a", [PUTIN, PUTIN], MAY), document("d", [], JULY)],
        [],
        {SCO: (1, 1, None, None), PUTIN: (1, 2, MAY, MAY)},
    ),
]


def no_rebuild(output: Path) -> None:
    raise AssertionError("rebuilt")


def test_index_stays_exact_run_after_run_without_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number, (documents, rejects, expected) in enumerate(RUNS):
        export_batch(documents, rejects, tmp_path)
        finalize_output(tmp_path)
        assert index_rows(tmp_path) == expected, f"after run {number + 1}"
        assert pq.read_table(index_path(tmp_path)).equals(rebuild(tmp_path))
        assert verify_output(tmp_path).ok
        if number == 0:  # from here on, every change is applied, never rebuilt
            monkeypatch.setattr(tasks.entity_index, "rebuild", no_rebuild)


@pytest.mark.parametrize("rows_at_a_time", [1, 2, 3])
def test_a_run_rewrites_the_index_a_slice_at_a_time_in_key_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows_at_a_time: int
) -> None:
    """Names arriving before, between and after the index's, one leaving, the same name under
    two labels, and a name that sorts after "Z" by its bytes: the slices stay in key order."""
    monkeypatch.setattr(tasks.entity_index_file, "_ROWS_AT_A_TIME", rows_at_a_time)
    b, d, f = ("Bern", "GPE"), ("Dakar", "GPE"), ("Fiji", "GPE")
    as_person = ("Washington", "PERSON")
    export_batch(
        [document("x", [b, d, f], JULY), document("y", [d, as_person], JULY)], [], tmp_path
    )
    finalize_output(tmp_path)
    monkeypatch.setattr(tasks.entity_index, "rebuild", no_rebuild)  # updated from here on
    newcomers = [("Accra", "GPE"), ("Cairo", "GPE"), ("Zagreb", "GPE"), ("Émile", "PERSON")]
    washington = ("Washington", "GPE")
    export_batch([document("z", [*newcomers, washington], AUGUST)], [removed("y")], tmp_path)
    finalize_output(tmp_path)
    monkeypatch.undo()
    expected = [b, d, f, *newcomers, washington]
    assert sorted(index_rows(tmp_path)) == sorted(expected)
    assert pq.read_table(index_path(tmp_path)).equals(rebuild(tmp_path))
    assert verify_output(tmp_path).ok


def test_an_index_damaged_past_its_footer_is_rebuilt_but_a_failed_write_is_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    export_batch(*RUNS[0][:2], tmp_path)
    finalize_output(tmp_path)
    damaged = bytearray(index_path(tmp_path).read_bytes())
    damaged[4:40] = b"\xff" * 36  # the first data page; the footer still reads
    index_path(tmp_path).write_bytes(damaged)
    assert counted_parts(tmp_path) is not None
    export_batch([document("c", [SCO], None)], [], tmp_path)
    finalize_output(tmp_path)
    assert "the entity index does not read" in caplog.text
    assert pq.read_table(index_path(tmp_path)).equals(rebuild(tmp_path))

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tasks.entity_index, "rebuild", no_rebuild)
    monkeypatch.setattr(tasks.entity_index_file, "write_atomically", full_disk)
    export_batch([document("d", [PUTIN], MAY)], [], tmp_path)
    with pytest.raises(OSError, match="No space left"):
        finalize_output(tmp_path)


def test_an_index_that_counts_parts_no_longer_there_is_rebuilt(tmp_path: Path) -> None:
    """As after a crash between finalize's rewrites and the index's."""
    export_batch(*RUNS[0][:2], tmp_path)
    finalize_output(tmp_path)
    moved = set()
    for part in counted_parts(tmp_path) or set():
        to = str(Path(part).with_name("part-moved.parquet"))
        for dataset in ("documents", "entities"):
            (tmp_path / dataset / part).rename(tmp_path / dataset / to)
        moved.add(to)

    assert update_index(tmp_path, {}, tasks.entity_index.no_pairs()) == "rebuilt"
    assert index_rows(tmp_path) == RUNS[0][2]
    assert counted_parts(tmp_path) == moved


def test_an_output_without_an_index_gets_one_on_its_next_finalize(tmp_path: Path) -> None:
    export_batch(*RUNS[0][:2], tmp_path)
    finalize_output(tmp_path)
    index_path(tmp_path).unlink()
    assert not verify_output(tmp_path).ok
    finalize_output(tmp_path)
    assert index_rows(tmp_path) == RUNS[0][2]
    assert verify_output(tmp_path).ok


def documented_queries() -> list[str]:
    """The SQL blocks of docs/output.md, in order."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "output.md").read_text()
    return re.findall(r"```sql\n(.*?)```", text, re.DOTALL)


def _rows_of(query: str) -> list[tuple[object, ...]]:
    relation = duckdb.sql(query)
    assert relation is not None
    return relation.fetchall()


def test_the_documented_queries_answer_both_questions(tmp_path: Path) -> None:
    export_batch(*RUNS[0][:2], tmp_path)
    finalize_output(tmp_path)
    queries = [
        statement.replace("'out/", f"'{tmp_path}/")
        for block in documented_queries()
        for statement in block.split(";")
        if statement.strip()
    ]
    since_when, stories, with_putin = (_rows_of(query) for query in queries)
    assert since_when == [(1, 2, JULY, JULY)]
    assert stories == [(JULY, None, "a", 2)]
    assert with_putin == [("Shanghai Cooperation Organization", "ORG", 1)]


class Crash(Exception):
    """A kill -9 at one write or unlink of finalize, as the fault tests deliver it for real."""


def test_a_rewrite_that_drops_no_mentions(tmp_path: Path) -> None:
    """A reject, then a document for the same source: the reject's part is rewritten with
    no named mention leaving."""
    export_batch([], [removed("a")], tmp_path)
    finalize_output(tmp_path)
    export_batch([document("a", [], JULY)], [], tmp_path)
    finalize_output(tmp_path)
    assert verify_output(tmp_path).ok


def test_a_crash_between_a_rewritten_parts_entities_and_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next finalize writes the same part again: its fresh entities must stay."""
    export_batch([document("a", [SCO], JULY), document("b", [PUTIN], JULY)], [], tmp_path)
    finalize_output(tmp_path)
    export_batch([document("a", [SCO], MAY)], [], tmp_path)
    writes = []
    real_write = tasks.layout.write_atomically

    def crash_on_second_write(table: pa.Table, path: Path) -> None:
        writes.append(path)
        if len(writes) == 2:  # the rewritten part's documents
            raise Crash
        real_write(table, path)

    monkeypatch.setattr(tasks.output, "write_atomically", crash_on_second_write)
    with pytest.raises(Crash):
        finalize_output(tmp_path)
    monkeypatch.setattr(tasks.output, "write_atomically", real_write)
    finalize_output(tmp_path)
    assert verify_output(tmp_path).ok
    assert index_rows(tmp_path) == {SCO: (1, 1, MAY, MAY), PUTIN: (1, 1, JULY, JULY)}


def test_a_crash_between_a_counted_parts_documents_and_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_batch([document("a", [SCO], JULY)], [removed("r")], tmp_path)
    finalize_output(tmp_path)
    export_batch([document("a", [SCO], MAY)], [removed("r")], tmp_path)
    real_unlink = Path.unlink

    def crash_at_rejects(path: Path, missing_ok: bool = False) -> None:
        if path.parent.name == "rejects":
            raise Crash
        real_unlink(path, missing_ok)

    monkeypatch.setattr(Path, "unlink", crash_at_rejects)
    with pytest.raises(Crash):
        finalize_output(tmp_path)
    monkeypatch.setattr(Path, "unlink", real_unlink)
    export_batch([], [removed("r"), removed("z")], tmp_path)
    finalize_output(tmp_path)
    assert verify_output(tmp_path).ok
    assert index_rows(tmp_path) == {SCO: (1, 1, MAY, MAY)}


def test_the_readme_queries_run_and_the_index_reads_without_glue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export_batch(*RUNS[0][:2], tmp_path)
    finalize_output(tmp_path)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (block,) = [
        b for b in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "entity_index" in b
    ]
    exec(block.replace("'out/", f"'{tmp_path}/"), {})  # the README's own code
    shown = capsys.readouterr().out
    assert "2002-07-18" in shown and "Shanghai Cooperation Organization" in shown
    frame = pd.read_parquet(tmp_path / "entity_index")
    assert list(frame.columns) == ENTITY_INDEX_SCHEMA.names
    assert str(frame["first_published_at"].dtype) == "datetime64[us, UTC]"
    assert pl.read_parquet(f"{tmp_path}/entity_index/*.parquet").height == len(frame)
