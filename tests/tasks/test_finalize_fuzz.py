"""Random histories of runs against one output: batches of new versions (documents in any
month, undated, or rejects), batches exported again, finalizes and compactions, each write
or unlink a possible crash. After every finalize or compaction that ends, the output holds
what the model says (the newest version of each source), and `verify_output` finds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tasks.compact
import tasks.entity_index_file
from schemas.models import Document, Entity, Reject
from tasks.common import doc_id_for
from tasks.compact import compact_output
from tasks.export import export_batch
from tasks.layout import read_dataset
from tasks.output import finalize_output
from tasks.verify import verify_output
from tests.data.batches import make_batch
from tests.tasks.conftest import Crash

SEEDS = 24
STEPS = 30
SOURCES = [f"file:///{n}.txt" for n in range(7)]
NAMES = [("China", "GPE"), ("Russia", "GPE"), ("Kim Ji-hoon", "PERSON"), ("Oslo", "GPE")]
DATES = [
    None,
    *(datetime(2002, month, day, tzinfo=UTC) for month, day in ((6, 1), (7, 3), (7, 20), (8, 9))),
]
Batch = tuple[list[Document], list[Reject]]


def _batch(rng: random.Random, version: int) -> Batch:
    documents, rejects = [], []
    template = make_batch()[0][0]
    for number, source in enumerate(rng.sample(SOURCES, rng.randint(1, 4))):
        label = f"v{version}.{number}"
        if rng.random() < 0.3:
            rejects.append(Reject(source=source, stage="fetch", reason="empty", detail=label))
            continue
        names = rng.sample(NAMES, rng.randint(0, 3))
        entities = [
            Entity(text=n, label=kind, start=20 * i, end=20 * i + len(n), canonical=n, kind="name")
            for i, (n, kind) in enumerate(names)
        ]
        update = {
            "doc_id": doc_id_for(source),
            "source": source,
            "title": label,
            "published_at": rng.choice(DATES),
            "entities": entities,
        }
        documents.append(template.model_copy(update=update))
    return documents, rejects


def _contents(output: Path) -> dict[str, str | None]:
    documents = read_dataset(output, "documents", ["source", "title"]).to_pylist()
    rejects = read_dataset(output, "rejects", ["source", "detail"]).to_pylist()
    return {row["source"]: row["title"] for row in documents} | {
        row["source"]: row["detail"] for row in rejects
    }


@pytest.mark.parametrize("seed", range(SEEDS))
def test_any_history_with_crashes_keeps_the_newest_row_of_each_source(
    seed: int, tmp_path: Path, crash_at: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks.compact, "TARGET_BYTES", 8_000)  # groups split as in a big month
    monkeypatch.setattr(tasks.entity_index_file, "_ROWS_AT_A_TIME", 3)  # the index in slices too
    rng = random.Random(seed)
    expected: dict[str, str | None] = {}
    batches: list[Batch] = []
    touched: list[str] = []  # the parts of the runs since the last finalize that ended
    for step in range(STEPS):
        action = rng.choices(["export", "again", "finalize", "compact"], [5, 2, 3, 1])[0]
        if action in ("export", "again"):
            if action == "export" or not batches:
                batches.append(_batch(rng, step))
            documents, rejects = rng.choice(batches) if action == "again" else batches[-1]
            touched += export_batch(documents, rejects, tmp_path)
            expected |= {d.source: d.title for d in documents} | {
                r.source: r.detail for r in rejects
            }
            continue
        if action == "compact" and touched:
            action = "finalize"  # compaction waits for the run, which finalizes first
        crash_at(rng.randint(1, 30) if rng.random() < 0.6 else -1)
        try:
            finalize_output(tmp_path, touched) if action == "finalize" else compact_output(tmp_path)
        except Crash:
            continue  # killed: the next finalize or compaction settles what it left
        finally:
            crash_at(-1)
        touched = []
        assert not expected or verify_output(tmp_path).problems == [], (seed, step)
        assert _contents(tmp_path) == expected, (seed, step)
