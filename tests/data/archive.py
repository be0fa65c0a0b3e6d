"""A synthetic archive: an output of many documents written straight to Parquet in the real
schema and layout (month partitions, manifest, source index, inputs, entity index), as years
of daily runs and a compaction would leave it. Built in seconds, for tests and the benchmark
of runs into a large output."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tasks.common import doc_id_for
from tasks.entity_index import no_pairs, update_index
from tasks.export import batch_tables, export_batch
from tasks.layout import month_of, part_file_name, partition, write_atomically, write_manifest
from tasks.output import finalize_output
from tasks.state import record_inputs, record_sources
from tests.data.batches import make_batch

FIRST_DAY = datetime(2004, 1, 1, 6, tzinfo=UTC)
MONTHS = 3  # of `daily_runs`


def build_archive(output: Path, documents: int, per_month: int = 4_000) -> None:
    """`documents` documents, `per_month` a month from January 2004, each with two mentions
    (China, and a person two documents share: half as many names as documents, as in an
    archive's long tail of names), one part per month as after `docpipe compact`.

    The entity index follows a year at a time, as runs keep it: a rebuild from every mention
    at the end held 1.5 GB at a million documents."""
    template = batch_tables(*make_batch())
    manifest: dict[str, int] = {}
    sources = []
    for first in range(0, documents, per_month):
        numbers = range(first, min(first + per_month, documents))
        rows = _documents(template["documents/published_month=2002-07"], numbers, per_month)
        month = month_of(rows["published_at"][0].as_py())
        name = part_file_name("archive", first)
        mentions = _mentions(template["entities/published_month=2002-07"], rows, numbers)
        for dataset, table in (("entities", mentions), ("documents", rows)):
            part = f"{partition(dataset, month)}/{name}"
            (output / part).parent.mkdir(parents=True, exist_ok=True)
            write_atomically(table, output / part)
            manifest[part] = table.num_rows
        if month.endswith("-12") or first + per_month >= documents:
            update_index(output, {}, no_pairs())
        sources.append(
            pa.table(
                {
                    "doc_id": rows["doc_id"],
                    "source": rows["source"],
                    "content_sha256": rows["content_sha256"],
                    "part": pa.array([f"documents/published_month={month}/{name}"] * len(rows)),
                }
            )
        )
    record_sources(output, pa.concat_tables(sources))
    record_inputs(output, {f"/archive/{n:08d}.txt": (1000 + n, n) for n in range(documents)})
    write_manifest(output, manifest)


def _documents(template: pa.Table, numbers: range, per_month: int) -> pa.Table:
    rows = template.take([0] * len(numbers))
    sources = [f"file:///archive/{n:08d}.txt" for n in numbers]
    months = numbers[0] // per_month
    month_start = FIRST_DAY.replace(year=FIRST_DAY.year + months // 12, month=months % 12 + 1)
    published = [month_start + timedelta(minutes=n % per_month) for n in numbers]
    columns = {
        "doc_id": pa.array([doc_id_for(source) for source in sources]),
        "source": pa.array(sources),
        "content_sha256": pa.array([f"{n:064x}" for n in numbers]),
        "title": pa.array([f"Archive story {n}" for n in numbers]),
        "published_at": pa.array(published, template.schema.field("published_at").type),
    }
    for name, column in columns.items():
        rows = rows.set_column(rows.schema.get_field_index(name), name, column)
    return rows.cast(template.schema)


def _mentions(template: pa.Table, documents: pa.Table, numbers: range) -> pa.Table:
    """Two mentions a document: China, and person n // 2 (a name that looks random, so the
    index compresses as real names do)."""
    count = documents.num_rows
    rows = template.take([0, 1] * count)
    doc_ids = pc.take(documents["doc_id"], pa.array([i // 2 for i in range(2 * count)]))
    people = [
        "China" if i % 2 == 0 else f"Person {(numbers[i // 2] // 2 * 2654435761) % 2**32:08x}"
        for i in range(2 * count)
    ]
    labels = ["GPE" if i % 2 == 0 else "PERSON" for i in range(2 * count)]
    for name, column in (
        ("doc_id", doc_ids),
        ("text", pa.array(people)),
        ("canonical", pa.array(people)),
        ("label", pa.array(labels)),
    ):
        rows = rows.set_column(rows.schema.get_field_index(name), name, column)
    return rows.cast(template.schema)


def daily_runs(output: Path, runs: int) -> None:
    """`runs` exports and finalizes: two new documents each, one re-processed, one reject."""
    template, reject = make_batch()
    for run in range(runs):
        documents = [
            template[0].model_copy(
                update={
                    "doc_id": doc_id_for(f"file:///{number}.txt"),
                    "source": f"file:///{number}.txt",
                    "title": f"Story {number}, run {run}",
                    "published_at": datetime(2002, 7 + number % MONTHS, 1 + run % 28, tzinfo=UTC),
                }
            )
            for number in (2 * run, 2 * run + 1, run // 2)
        ]
        rejected = reject[0].model_copy(update={"source": f"file:///bad-{run % 4}.txt"})
        export_batch(documents, [rejected], output)
        finalize_output(output)
