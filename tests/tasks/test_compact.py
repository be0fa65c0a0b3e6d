"""Compaction: parts bounded by months, every row kept once, at any crash point; the lock
between runs and compaction; runs into a large output read only what they change."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow.compute as pc
import pytest

from schemas.models import Document, Entity
from tasks.compact import compact_output
from tasks.export import export_batch
from tasks.layout import part_paths, read_dataset
from tasks.lock import OutputBusy, hold
from tasks.output import finalize_output
from tasks.state import known_documents, record_inputs
from tasks.verify import verify_output
from tests.data.archive import MONTHS, build_archive, daily_runs
from tests.data.batches import make_batch
from tests.flows.runs import rows
from tests.tasks.conftest import Crash


def contents(output: Path) -> dict[str, list[str]]:
    return {
        d: [json.dumps(r, default=str) for r in rows(output, d)]
        for d in ("documents", "entities", "rejects")
    }


def test_compaction_leaves_a_part_per_month_and_every_row_once(tmp_path: Path) -> None:
    daily_runs(tmp_path, 12)
    before = contents(tmp_path)
    assert len(part_paths(tmp_path, "documents")) > 2 * MONTHS

    compaction = compact_output(tmp_path)

    assert compaction.parts_after == {"documents": MONTHS, "entities": MONTHS, "rejects": 1}
    assert compaction.parts_before["documents"] > MONTHS
    assert verify_output(tmp_path).problems == []
    assert contents(tmp_path) == before
    daily_runs(tmp_path, 2)  # runs go on into a compacted output
    assert verify_output(tmp_path).problems == []


def test_a_crash_at_any_write_or_unlink_of_compaction_loses_nothing(
    tmp_path: Path, crash_at: Callable[[int], None]
) -> None:
    original = tmp_path / "original"
    daily_runs(original, 8)
    expected = contents(original)
    crashed = 0
    for point in range(1, 200):
        output = tmp_path / f"crash-{point}"
        shutil.copytree(original, output)
        crash_at(point)
        try:
            compact_output(output)
        except Crash:
            crashed += 1
        else:
            break
        finally:
            crash_at(-1)
        compact_output(output)  # the next compaction (or run) settles what the crash left
        assert verify_output(output).problems == [], point
        assert contents(output) == expected, point
        assert len(part_paths(output, "documents")) == MONTHS
        shutil.rmtree(output)
    assert crashed > 10  # every write and unlink of a compaction was a crash point


def test_one_writer_at_a_time_and_a_clear_refusal(tmp_path: Path) -> None:
    daily_runs(tmp_path, 1)
    with hold(tmp_path, 0, "a run"), pytest.raises(OutputBusy, match="docpipe compact waited 0 s"):
        compact_output(tmp_path)
    with (
        hold(tmp_path, 0, "docpipe compact"),
        pytest.raises(OutputBusy) as busy,
        hold(tmp_path, 0.2, "this run"),
    ):
        pass
    assert "another docpipe run or `docpipe compact` is writing it; this run waited 0 s" in str(
        busy.value
    )
    with hold(tmp_path, 0, "a run"):
        pass  # let go: the next one gets it


def test_a_run_into_a_large_output_reads_only_what_it_changes(tmp_path: Path) -> None:
    """The archive's parts but the one of a re-processed document are replaced by garbage while
    a batch is looked up, exported and finalized: none of them was read. Then they come back
    and the output verifies."""
    build_archive(tmp_path, 20_000, per_month=2_000)
    aside = tmp_path.parent / "aside"
    archive = [*part_paths(tmp_path, "documents"), *part_paths(tmp_path, "entities")]
    rewritten = [part for part in archive if "published_month=2004-01" in part]
    archive = [part for part in archive if part not in rewritten]
    for part in archive:
        (aside / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp_path / part, aside / part)
        (tmp_path / part).write_bytes(b"not parquet")
    documents, rejects = make_batch()
    changed = _changed(tmp_path, "file:///archive/00000007.txt", rewritten)
    assert known_documents(tmp_path, [documents[0].doc_id]) == {}

    export_batch([*documents, changed], rejects, tmp_path)
    replaced = finalize_output(tmp_path)
    record_inputs(tmp_path, {"/page.txt": (1, 2)})

    assert sorted(replaced) == sorted(rewritten)  # the re-processed document's part only
    for part in archive:
        shutil.move(aside / part, tmp_path / part)
    assert verify_output(tmp_path).problems == []


def _changed(output: Path, source: str, parts: list[str]) -> Document:
    """The archive's document of `source` with a new title, its names and date as they were."""
    documents = read_dataset(output, "documents", parts=[p for p in parts if "documents" in p])
    entities = read_dataset(output, "entities", parts=[p for p in parts if "entities" in p])
    (row,) = documents.filter(pc.equal(documents["source"], source)).to_pylist()
    mentions = entities.filter(pc.equal(entities["doc_id"], row["doc_id"])).to_pylist()
    names = [{field: m[field] for field in Entity.model_fields} for m in mentions]
    return Document.model_validate({**row, "title": "Changed", "entities": names})
