"""Daily runs into one output, then `docpipe compact`: the parts are bounded by the months,
not by the runs, and the output is row for row what a full refresh of the same inputs gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tasks.compact import compact_output
from tasks.layout import part_paths
from tasks.verify import verify_output
from tests.bench.corpus import MONTHS, write_corpus
from tests.flows.runs import rows, run

RUNS = 30
# Columns that say when a row was made, not what it holds.
_WHEN = ("processed_at",)


def _rows(output: Path, dataset: str) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if k not in _WHEN} for row in rows(output, dataset)]


@pytest.mark.usefixtures("prefect_api")
def test_thirty_incremental_runs_and_a_compaction_equal_a_full_refresh(tmp_path: Path) -> None:
    pool, corpus, output = tmp_path / "pool", tmp_path / "corpus", tmp_path / "out"
    pages = sorted(write_corpus(pool, RUNS + 2, 40, seed=21).glob("*.txt"))
    corpus.mkdir()
    for page in pages[:2]:
        shutil.copy(page, corpus)
    for day in range(RUNS):  # each day a new page, and one earlier page revised
        shutil.copy(pages[day + 2], corpus)
        revised = corpus / pages[day // 2].name
        revised.write_text(revised.read_text() + f"\n\nCorrection of day {day}.\n")
        run([corpus], output, batch_size=1)
    grown = len(part_paths(output, "documents"))

    compact_output(output)

    assert grown > RUNS  # a part per run and batch before
    assert len(part_paths(output, "documents")) == len(MONTHS)
    assert len(part_paths(output, "entities")) == len(MONTHS)
    assert verify_output(output).problems == []
    refreshed = tmp_path / "refreshed"
    run([corpus], refreshed, full_refresh=True)
    for dataset in ("documents", "entities", "rejects"):
        assert _rows(output, dataset) == _rows(refreshed, dataset), dataset
