"""The output across runs: incremental plans, one row per document, summaries, full refresh."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from schemas.models import Document, Reject
from tasks.common import doc_id_for
from tasks.export import export_batch
from tasks.layout import read_dataset, write_atomically
from tasks.output import (
    finalize_output,
    plan_inputs,
    reset_output,
    summarize,
)
from tasks.state import record_inputs
from tasks.verify import verify_output
from tests.data.batches import make_batch


def test_plan_skips_files_unchanged_since_they_were_recorded(tmp_path: Path) -> None:
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("Title\n\nBody.")
    output = tmp_path / "out"
    todo, unchanged, _, fingerprints = plan_inputs([str(old)], output)
    assert (todo, unchanged) == ([str(old)], [])
    record_inputs(output, fingerprints)

    new.write_text("Title\n\nAnother body.")
    todo, unchanged, _, _ = plan_inputs([str(old), str(new), "https://example.org/a"], output)
    assert todo == [str(new), "https://example.org/a"]
    assert unchanged == [str(old)]

    os.utime(old, ns=(1, 1))  # touched: size and time no longer match
    assert plan_inputs([str(old)], output)[0] == [str(old)]


def test_max_documents_defers_the_rest_to_the_next_run(tmp_path: Path) -> None:
    pages = [tmp_path / f"{n}.txt" for n in range(5)]
    for page in pages:
        page.write_text(f"Title {page.name}\n\nBody.")
    plan = plan_inputs([str(p) for p in pages], tmp_path / "out", max_documents=2)
    assert (plan.todo, plan.deferred) == ([str(p) for p in pages[:2]], [str(p) for p in pages[2:]])
    assert sorted(plan.fingerprints) == plan.todo  # deferred inputs are not recorded as done
    record_inputs(tmp_path / "out", plan.fingerprints)
    later = plan_inputs([str(p) for p in pages], tmp_path / "out", max_documents=2)
    assert (later.todo, later.deferred) == ([str(p) for p in pages[2:4]], [str(pages[4])])


def test_newer_rows_replace_older_rows_of_the_same_source(tmp_path: Path) -> None:
    documents, rejects = make_batch(title="First title")
    first = set(export_batch(documents, rejects, tmp_path))
    assert finalize_output(tmp_path) == {}

    # The document changed; the file that was rejected now works and is a document.
    changed = [documents[0].model_copy(update={"title": "Second title"})]
    recovered = documents[0].model_copy(
        update={"doc_id": "bad0000000000000", "source": rejects[0].source, "entities": []}
    )
    export_batch([*changed, recovered], [], tmp_path)
    replaced = finalize_output(tmp_path)

    assert sorted(replaced) == sorted(first)
    rows = read_dataset(tmp_path, "documents").to_pylist()
    assert sorted((r["source"], r["title"]) for r in rows) == [
        ("file:///bad.txt", "First title"),
        ("file:///page.txt", "Second title"),
    ]
    assert read_dataset(tmp_path, "rejects").num_rows == 0
    assert read_dataset(tmp_path, "entities")["text"].to_pylist() == ["China", "Russia"]


def test_summary_reads_this_runs_parts_and_the_totals(tmp_path: Path) -> None:
    first = set(export_batch(*make_batch(), tmp_path))
    other = Reject(source="file:///x.txt", stage="fetch", reason="empty", detail="file is empty")
    second = set(export_batch([], [other], tmp_path))
    finalize_output(tmp_path)
    summary = summarize(tmp_path, second, unchanged=3)
    assert (summary.inputs, summary.documents, summary.rejects, summary.unchanged) == (4, 0, 1, 3)
    assert summary.rejects_by_reason == {"empty": 1}
    assert (summary.total_documents, summary.total_rejects) == (1, 2)
    everything = summarize(tmp_path, first, unchanged=0)
    assert everything.documents_by_language == {"en": 1}
    assert everything.top_entities == [("China", "GPE", 1), ("Russia", "GPE", 1)]


def test_full_refresh_clears_datasets_and_bookkeeping(tmp_path: Path) -> None:
    export_batch(*make_batch(), tmp_path)
    record_inputs(tmp_path, {"/some/file.txt": (1, 2)})
    (tmp_path / "_http").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    assert sorted(reset_output(tmp_path)) == ["_http", "_state", "documents", "entities", "rejects"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_finalize_mends_what_a_crash_left(tmp_path: Path) -> None:
    """Crash states: a part rewritten but its old copy not yet removed, mentions whose document
    was never written, and a run killed before finalize (old and new row of one source)."""
    documents, rejects = make_batch(title="Old title")
    old = export_batch(documents, rejects, tmp_path)
    for part in old:  # an interrupted rewrite: the same rows under a second name
        copy = (tmp_path / part).with_name("part-copy.parquet")
        write_atomically(read_dataset(tmp_path, part.split("/")[0], parts=[part]), copy)
    orphan = documents[0].model_copy(update={"doc_id": "orphan0000000000", "source": "file:///o"})
    orphan_part = export_batch([orphan], [], tmp_path)[0]  # entities/...
    (tmp_path / orphan_part.replace("entities/", "documents/")).unlink()
    export_batch([documents[0].model_copy(update={"title": "New title"})], [], tmp_path)
    assert not verify_output(tmp_path).ok

    finalize_output(tmp_path)

    assert verify_output(tmp_path).problems == []
    rows = read_dataset(tmp_path, "documents").to_pylist()
    assert sorted((r["source"], r["title"]) for r in rows) == [("file:///page.txt", "New title")]
    assert read_dataset(tmp_path, "rejects")["source"].to_pylist() == ["file:///bad.txt"]
    assert read_dataset(tmp_path, "entities")["text"].to_pylist() == ["China", "Russia"]
    assert finalize_output(tmp_path) == {}  # settled


def test_an_output_of_an_older_docpipe_is_refused_with_the_way_out(tmp_path: Path) -> None:
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "part-old.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match=r"older docpipe .* run once with --full-refresh"):
        plan_inputs(["/page.txt"], tmp_path)
    assert reset_output(tmp_path) == ["documents"]
    assert plan_inputs(["/page.txt"], tmp_path).todo == ["/page.txt"]


def test_a_batch_keeps_one_row_per_source_the_documents(tmp_path: Path) -> None:
    documents, _ = make_batch()
    repeated = Reject(
        source=documents[0].source, stage="fetch", reason="duplicate_source", detail="twice"
    )
    export_batch(documents, [repeated, repeated.model_copy(update={"detail": "thrice"})], tmp_path)
    finalize_output(tmp_path)

    assert [row["source"] for row in read_dataset(tmp_path, "documents").to_pylist()] == [
        documents[0].source
    ]
    assert read_dataset(tmp_path, "rejects").num_rows == 0
    assert verify_output(tmp_path).problems == []


def test_the_runs_own_parts_win_even_when_they_were_already_there(tmp_path: Path) -> None:
    """A run whose batch is the same as a settled one finds its parts on disk; they still
    replace what a crashed run left in between."""
    documents, rejects = make_batch()
    as_reject = Reject(source=documents[0].source, stage="clean", reason="empty", detail="x")
    settled = export_batch([], [as_reject], tmp_path)
    finalize_output(tmp_path)
    export_batch(documents, rejects, tmp_path)  # a run killed before its finalize
    again = export_batch([], [as_reject], tmp_path)  # the next run: the same batch as before
    assert again == settled

    finalize_output(tmp_path, again)

    assert read_dataset(tmp_path, "documents").num_rows == 0
    assert sorted(read_dataset(tmp_path, "rejects")["source"].to_pylist()) == sorted(
        [documents[0].source, rejects[0].source]
    )
    assert verify_output(tmp_path).problems == []


def _documents(sources: list[str], version: int) -> list[Document]:
    template = make_batch()[0][0]
    return [
        template.model_copy(
            update={"source": source, "doc_id": doc_id_for(source), "title": f"v{version}"}
        )
        for source in sources
    ]


def test_a_rewrite_never_writes_over_another_part_of_the_same_name(tmp_path: Path) -> None:
    """A batch exported again after its part was rewritten is rewritten the same way: the
    name of the earlier rewrite, still settled, is taken, and neither copy's rows are lost."""
    first = _documents(["s1", "s2", "s3"], 1)
    again = _documents(["s0", "s2", "s5"], 2)
    export_batch(first, [], tmp_path)
    finalize_output(tmp_path)
    newest = _documents(["s1", "s2", "s3"], 3)
    export_batch(again, [], tmp_path)
    export_batch(newest, [], tmp_path)
    finalize_output(tmp_path)  # `again` loses s2: rewritten to (s0, s5)
    touched = export_batch(again, [], tmp_path) + export_batch(newest, [], tmp_path)  # rerun

    finalize_output(tmp_path, touched)

    titles = {
        row["source"]: row["title"] for row in read_dataset(tmp_path, "documents").to_pylist()
    }
    assert titles == {"s0": "v2", "s1": "v3", "s2": "v3", "s3": "v3", "s5": "v2"}
    assert verify_output(tmp_path).problems == []
