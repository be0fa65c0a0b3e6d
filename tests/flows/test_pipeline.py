"""The process-documents flow end to end, through a real Prefect API (prefect_test_harness)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pyarrow.parquet as pq
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
)
from prefect.client.schemas.objects import Artifact, State

import tasks.clean
import tasks.language
from flows.pipeline import process_documents
from schemas.arrow import OUTPUT_SCHEMAS
from schemas.run import RunSummary
from tasks.entity_names import VALUE_LABELS
from tasks.layout import read_dataset
from tasks.lock import hold
from tasks.verify import verify_output
from tests.data.texts import KOREAN
from tests.flows.runs import rows, run, task_states

pytestmark = pytest.mark.usefixtures("prefect_api")

REQUIRED_ENTITIES = {
    ("China", "GPE"),
    ("Russia", "GPE"),
    ("Vladimir Rushailo", "PERSON"),
    ("Putin", "PERSON"),
    ("NATO", "ORG"),
    ("Shanghai Cooperation Organization", "ORG"),
}


def test_seed_and_bad_inputs_end_to_end(seed_copy: Path, tmp_path: Path) -> None:
    (seed_copy / "empty.txt").write_bytes(b"")
    (seed_copy / "korean.txt").write_bytes(f"쌀값 3주째 상승\n\n{KOREAN}\n".encode("euc-kr"))
    (seed_copy / "feed.jsonl").write_text('{"text": "Title\\n\\nA short body."}\n{broken\n')
    unsupported = tmp_path / "report.pdf"
    unsupported.write_bytes(b"%PDF-1.4")
    output = tmp_path / "out"

    state, flow_run_id = run([seed_copy, unsupported], output, timezone="Asia/Seoul", batch_size=2)

    documents = {row["source"].rsplit("/", 1)[-1]: row for row in rows(output, "documents")}
    rejects = {row["source"].rsplit("/", 1)[-1]: row["reason"] for row in rows(output, "rejects")}
    assert sorted(documents) == ["000_c1ca14e272ef07c8.txt", "feed.jsonl#L1", "korean.txt"]
    assert rejects == {
        "empty.txt": "empty",
        "feed.jsonl#L2": "invalid_jsonl",
        "report.pdf": "unsupported_type",
    }

    seed = documents["000_c1ca14e272ef07c8.txt"]
    assert seed["title"] == "China, Russia Highlight Security Cooperation"
    assert seed["published_at"] == datetime(2002, 7, 18, 13, 21, tzinfo=UTC)  # 22:21 in Seoul
    assert seed["author_emails"] == ["yshwang@donga.com"]
    paragraphs = seed["text"].split("\n\n")
    assert len(paragraphs) == 7
    assert seed["text"].startswith("China and Russia share")
    assert seed["text"].endswith("between the two countries.")
    for furniture in ("Go to contents", "Posted", "한국어", "yshwang"):
        assert furniture not in seed["text"]
    assert seed["language"] == "en"
    assert {(e["text"], e["label"]) for e in seed["entities"]} >= REQUIRED_ENTITIES
    assert documents["korean.txt"]["language"] == "ko", documents["korean.txt"]
    assert documents["korean.txt"]["entities"] == []

    sco = [e for e in seed["entities"] if e["canonical"] == "Shanghai Cooperation Organization"]
    assert [e["text"] for e in sco] == ["Shanghai Cooperation Organization"] + ["SCO"] * 3
    index = _index(output)
    assert index["Shanghai Cooperation Organization", "ORG"]["documents"] == 1
    assert index["Shanghai Cooperation Organization", "ORG"]["mentions"] == 4
    assert index["Vladimir Rushailo", "PERSON"]["mentions"] == 1
    assert not any(label in VALUE_LABELS for _, label in index)
    assert not any(label in VALUE_LABELS for _, label, _ in summary_of(state).top_entities)

    mentions = rows(output, "entities")
    assert len(mentions) == sum(len(d["entities"]) for d in documents.values())
    assert {m["doc_id"] for m in mentions} <= {d["doc_id"] for d in documents.values()}
    for dataset, schema in OUTPUT_SCHEMAS.items():
        assert read_dataset(output, dataset).schema == schema

    artifacts = _artifacts(flow_run_id)
    assert {a.key for a in artifacts} >= {
        "docpipe-run-summary",
        "docpipe-documents-by-language",
        "docpipe-rejects-by-reason",
        "docpipe-top-entities",
    }
    summary = next(a for a in artifacts if a.key == "docpipe-run-summary")
    assert "**6** inputs: **3** documents, **3** rejects" in str(summary.data)
    assert "| unsupported_type | 1 |" in str(summary.data)
    names = task_states(flow_run_id)
    assert {"fetch batch-0001", "clean batch-0002", "entities batch-0003"} <= set(names)


def test_same_input_into_a_new_output_reuses_cached_stages(seed_copy: Path, tmp_path: Path) -> None:
    shutil.copy(seed_copy / "000_c1ca14e272ef07c8.txt", seed_copy / "copy.txt")
    run([seed_copy], tmp_path / "first")
    first = {dataset: rows(tmp_path / "first", dataset) for dataset in OUTPUT_SCHEMAS}

    _, flow_run_id = run([seed_copy], tmp_path / "second")

    states = task_states(flow_run_id)
    for stage in ("clean", "language", "entities"):
        assert states[f"{stage} batch-0001"][0] == "Cached", states
    assert {dataset: rows(tmp_path / "second", dataset) for dataset in OUTPUT_SCHEMAS} == first
    assert len(first["documents"]) == 2


def _artifacts(flow_run_id: UUID | None) -> list[Artifact]:
    assert flow_run_id is not None
    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )


def _summary_artifact(flow_run_id: UUID | None) -> str:
    return str(next(a.data for a in _artifacts(flow_run_id) if a.key == "docpipe-run-summary"))


def _index(output: Path) -> dict[tuple[str, str], dict[str, Any]]:
    assert verify_output(output).ok  # every run leaves the index counting what the parts hold
    table = pq.read_table(output / "entity_index")
    return {(row["canonical"], row["label"]): row for row in table.to_pylist()}


def summary_of(state: State[Any]) -> RunSummary:
    summary = state.result()
    assert isinstance(summary, RunSummary)
    return summary


def test_runs_are_incremental_and_keep_one_row_per_document(
    seed_copy: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    first, _ = run([seed_copy], output)
    assert (summary_of(first).documents, summary_of(first).unchanged) == (1, 0)

    page = seed_copy / "harbour.txt"
    page.write_text("Harbour Reopens\n\nThe harbour of Busan reopened on Thursday.\n")
    grown, grown_run = run([seed_copy], output)
    assert (summary_of(grown).documents, summary_of(grown).unchanged) == (1, 1)
    assert task_states(grown_run)["fetch batch-0001"][0] == "Completed"

    same, same_run = run([seed_copy], output)
    assert (summary_of(same).documents, summary_of(same).unchanged) == (0, 2)
    assert not [name for name in task_states(same_run) if name.startswith("fetch")]
    # A run with nothing to do says so, and is complete: its progress is 100%, not 0%.
    assert "Nothing new or changed: no stage work was done." in _summary_artifact(same_run)
    progress = next(a for a in _artifacts(same_run) if a.type == "progress")
    assert progress.data == 100.0

    page.write_text("Harbour Reopens\n\nThe harbour of Busan reopened on Friday.\n")
    changed, _ = run([seed_copy], output)
    assert (summary_of(changed).documents, summary_of(changed).total_documents) == (1, 2)
    texts = [
        row["text"] for row in rows(output, "documents") if row["source"].endswith("harbour.txt")
    ]
    assert texts == ["The harbour of Busan reopened on Friday."]

    busan = [row for (name, _), row in _index(output).items() if name == "Busan"]
    assert [row["documents"] for row in busan] == [1]  # the changed page counted once

    refreshed, refreshed_run = run([seed_copy], output, full_refresh=True)
    assert (summary_of(refreshed).documents, summary_of(refreshed).unchanged) == (2, 0)
    assert verify_output(output).ok  # the entity index too, started again
    assert task_states(refreshed_run)["entities batch-0001"][0] == "Completed"
    assert len(rows(output, "documents")) == 2


def test_stage_failing_once_is_retried_and_the_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "page.txt"
    page.write_text(f"Unique Page {tmp_path.name}\n\nThe harbour reopened after repairs today.\n")
    real_detect_batch = tasks.language.detect_batch
    calls = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("transient fault injected by the test")
        return real_detect_batch(*args, **kwargs)

    monkeypatch.setattr(tasks.language, "detect_batch", fails_once)

    _, flow_run_id = run([page], tmp_path / "out")  # stages run in threads, patch included

    assert task_states(flow_run_id)["language batch-0001"] == ("Completed", 2)
    assert [row["language"] for row in rows(tmp_path / "out", "documents")] == ["en"]


def _pages(directory: Path, count: int) -> list[Path]:
    directory.mkdir()
    pages = [directory / f"{n}.txt" for n in range(count)]
    for n, page in enumerate(pages):
        page.write_text(
            f"Page {n} {directory}\n\nThe harbour in Busan reopened, report {n} says.\n"
        )
    return pages


def test_max_documents_leaves_the_rest_for_the_next_run(tmp_path: Path) -> None:
    _pages(tmp_path / "in", 3)
    first, _ = run([tmp_path / "in"], tmp_path / "out", limits={"max_documents": 2})
    assert summary_of(first).model_dump(include={"inputs", "documents", "deferred"}) == {
        "inputs": 3,
        "documents": 2,
        "deferred": 1,
    }
    second, _ = run([tmp_path / "in"], tmp_path / "out", limits={"max_documents": 2})
    counts = {"documents": 1, "unchanged": 2, "deferred": 0}
    assert summary_of(second).model_dump(include=set(counts)) == counts


def test_a_source_repeated_in_a_batch_keeps_its_first_copy(tmp_path: Path) -> None:
    lines = tmp_path / "repeated.jsonl"
    copies = [
        f"Copy {n}: the harbour in Busan reopened on Monday, officials said." for n in (1, 2, 3)
    ]
    url = "https://example.org/harbour"
    lines.write_text("".join(json.dumps({"url": url, "text": text}) + "\n" for text in copies))
    output = tmp_path / "out"
    state, _ = run([lines], output)
    assert summary_of(state).model_dump(include={"documents", "rejects"}) == {
        "documents": 1,
        "rejects": 0,
    }
    assert [(row["source"], row["text"]) for row in rows(output, "documents")] == [(url, copies[0])]
    assert rows(output, "rejects") == []
    assert verify_output(output).problems == []


def test_a_run_waits_for_the_output_and_refuses_clearly_when_it_stays_busy(
    tmp_path: Path,
) -> None:
    _pages(tmp_path / "in", 1)
    output = tmp_path / "out"
    with hold(output, 0, "docpipe compact"):
        state = process_documents(
            sources=[str(tmp_path / "in")],
            output=str(output),
            limits={"busy_wait_seconds": 1},
            return_state=True,
        )
    assert state.is_failed()
    assert "another docpipe run or `docpipe compact` is writing it; this run waited 1 s" in str(
        state.message
    )
    assert not (output / "documents").exists()  # nothing was done
    run([tmp_path / "in"], output)  # once it is free


def test_an_output_of_an_older_docpipe_fails_the_run_at_once_saying_what_to_do(
    tmp_path: Path,
) -> None:
    """A refusal no retry can change is not retried (three retries cost about 7 s)."""
    _pages(tmp_path / "in", 1)
    (tmp_path / "out" / "documents").mkdir(parents=True)
    (tmp_path / "out" / "documents" / "part-old.parquet").write_bytes(b"PAR1")
    state = process_documents(
        sources=[str(tmp_path / "in")], output=str(tmp_path / "out"), return_state=True
    )
    assert state.is_failed()
    assert "run once with --full-refresh" in str(state.message)
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    plan = next(s for name, s in task_states(flow_run_id).items() if name.startswith("plan"))
    assert plan == ("Failed", 1)


def test_a_batch_failing_after_its_retries_spares_the_others_and_the_next_run_redoes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = _pages(tmp_path / "in", 2)
    real_clean_batch = tasks.clean.clean_batch

    def first_batch_always_fails(batch: Any, *args: Any) -> Any:
        if batch.name == "batch-0001":
            raise RuntimeError("a bug that no retry mends")
        return real_clean_batch(batch, *args)

    monkeypatch.setattr(tasks.clean, "clean_batch", first_batch_always_fails)
    state = process_documents(
        sources=[str(tmp_path / "in")],
        output=str(tmp_path / "out"),
        batch_size=1,
        return_state=True,
    )
    assert state.is_failed()
    assert "1 of 2 batches failed" in str(state.message)
    assert (
        "batch-0001 (1 inputs): clean: Task run encountered an exception RuntimeError: a bug "
        in (str(state.message))
    )
    assert [row["source"] for row in rows(tmp_path / "out", "documents")] == [pages[1].as_uri()]
    published = _summary_artifact(state.state_details.flow_run_id)
    assert "**2** inputs: **1** documents" in published and "**1** in failed batches" in published

    monkeypatch.undo()
    again, _ = run([tmp_path / "in"], tmp_path / "out", batch_size=1)
    assert (summary_of(again).documents, summary_of(again).unchanged) == (1, 1)
