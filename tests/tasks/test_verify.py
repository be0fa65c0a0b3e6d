"""`verify_output`: a finished output passes; each kind of damage is named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tasks.entity_index_file import index_path
from tasks.export import export_batch
from tasks.layout import read_dataset
from tasks.output import finalize_output
from tasks.state import record_inputs
from tasks.verify import verify_output
from tests.data.batches import make_batch


def _part(output: Path, dataset: str) -> Path:
    return next((output / dataset).rglob("part-*.parquet"))


def truncate(output: Path) -> None:
    path = _part(output, "documents")
    path.write_bytes(path.read_bytes()[:100])


def wrong_schema(output: Path) -> None:
    pq.write_table(pa.table({"source": ["x"]}), _part(output, "rejects"))


def duplicate_document(output: Path) -> None:
    copy = read_dataset(output, "documents")
    pq.write_table(copy, _part(output, "documents").with_name("part-copy.parquet"))


def orphan_mentions(output: Path) -> None:
    path = _part(output, "entities")
    path.rename(path.with_name("part-elsewhere.parquet"))


def temporary_file(output: Path) -> None:
    _part(output, "documents").with_name("part-x.parquet.tmp").write_bytes(b"PAR1")


def temporary_state(output: Path) -> None:
    (output / "_state" / "parts.parquet.tmp").write_bytes(b"")


def wrong_month(output: Path) -> None:
    for dataset in ("documents", "entities"):
        path = _part(output, dataset)
        (output / dataset / "published_month=2001-01").mkdir()
        path.rename(output / dataset / "published_month=2001-01" / path.name)


def unlisted_part(output: Path) -> None:
    path = _part(output, "rejects")
    path.rename(path.with_name("part-unlisted.parquet"))


def unindexed_source(output: Path) -> None:
    for path in (output / "_state" / "sources").iterdir():
        path.unlink()


def index_miscounted(output: Path) -> None:
    path = index_path(output)
    index = pq.read_table(path)
    more = pc.add(index["mentions"], 1)
    field = index.schema.field("mentions")
    pq.write_table(index.set_column(4, field, more).replace_schema_metadata(
        pq.read_schema(path).metadata), path)  # fmt: skip


def index_missing(output: Path) -> None:
    index_path(output).unlink()


def index_of_other_parts(output: Path) -> None:
    pq.write_table(
        pq.read_table(index_path(output)).replace_schema_metadata({}), index_path(output)
    )


DAMAGE: list[tuple[Callable[[Path], None], str]] = [
    (truncate, "not readable as Parquet"),
    (wrong_schema, "schema differs from the rejects schema"),
    (duplicate_document, "doc_id in more than one row: abc123"),
    (duplicate_document, "source in more than one document or reject row: file:///page.txt"),
    (orphan_mentions, "entity mentions without their document (same part): abc123"),
    (temporary_file, "not a part (a temporary or stray file)"),
    (temporary_state, "temporary or stray files in"),
    (wrong_month, "holds documents published in another month"),
    (unlisted_part, "the manifest differs from the parts on disk"),
    (unindexed_source, "the source index does not place"),
    (index_miscounted, "its counts differ from the entities and documents"),
    (index_missing, "missing (an output of an older docpipe"),
    (index_of_other_parts, "counts other parts than those in documents/"),
]


@pytest.fixture
def output(tmp_path: Path) -> Path:
    export_batch(*make_batch(), tmp_path)
    finalize_output(tmp_path)
    record_inputs(tmp_path, {"/page.txt": (1, 2)})
    return tmp_path


def test_a_finished_output_passes(output: Path) -> None:
    found = verify_output(output)
    assert found.problems == []
    assert (found.rows["documents"], found.rows["entities"], found.rows["rejects"]) == (1, 2, 1)


@pytest.mark.parametrize(("damage", "expected"), DAMAGE, ids=lambda v: getattr(v, "__name__", ""))
def test_each_kind_of_damage_is_named(
    output: Path, damage: Callable[[Path], None], expected: str
) -> None:
    damage(output)
    found = verify_output(output)
    assert not found.ok
    assert any(expected in problem for problem in found.problems), found.problems


def test_a_directory_that_is_no_output_fails(tmp_path: Path) -> None:
    assert "not a docpipe output" in verify_output(tmp_path).problems[0]
