"""The quality gate: extraction F1 and page-dump accuracy never fall below the baseline.

`make eval` (python -m tests.quality.gate) prints precision, recall, F1 and milliseconds per
page of trafilatura (default and precise settings) and of docpipe on both development sets
(`../shared/data/aeb-dev` and `wceb-dev`, each skipped when absent; aeb-dev falls back to the
project's copy of its pages) and per sub-dataset; language identification on langid-dev
(`tests.quality.langid`); entity F1 of the model alone and of the stage on annotated texts;
then the page-dump table. The gate itself
(`make test`) checks the pages the project ships. `--update-baseline` records higher figures;
the baseline only moves up.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from tasks.clean_dump import clean_page_dump
from tests.quality.entity_eval import entity_scores
from tests.quality.entity_texts import TEXTS as ENTITY_TEXTS
from tests.quality.extraction import (
    EXTRACTORS,
    PAGES,
    Page,
    docpipe,
    evaluate,
    load_pages,
    page_counts,
    score,
)
from tests.quality.langid import (
    SENTENCES,
    load_sentences,
    print_langid,
    print_tallies,
    right_share,
    tally,
    through_pipeline,
)
from tests.quality.page_dumps import CASES, FIELDS, TIMEZONE, DumpCase

BASELINE = Path(__file__).resolve().parent / "baseline.json"
# Development sets shared beside the project (never copied into it, except aeb-dev's pages).
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def page_dump_results(case: DumpCase) -> dict[str, bool]:
    """Which fields of the case docpipe gets right."""
    page = clean_page_dump(case.dump, TIMEZONE)
    got = {**page.__dict__, "body": page.paragraphs}
    expected = {**case.__dict__}
    return {name: got[name] == expected[name] for name in FIELDS}


def page_dump_accuracy() -> float:
    results = [ok for case in CASES for ok in page_dump_results(case).values()]
    return sum(results) / len(results)


def measure() -> dict[str, float]:
    overall = evaluate(docpipe, load_pages())
    return {
        "html_f1": round(overall.f1, 4),
        "page_dump_accuracy": round(page_dump_accuracy(), 4),
        "langid_right": round(right_share(load_sentences()), 4),
        "entity_f1": round(entity_scores()["docpipe"].f1, 4),
    }


def baseline() -> dict[str, float]:
    recorded: dict[str, float] = json.loads(BASELINE.read_text(encoding="utf-8"))
    return recorded


def shortfalls(measured: dict[str, float], recorded: dict[str, float]) -> list[str]:
    return [
        f"{name} is {measured.get(name, 0.0):.4f}, below its baseline {floor:.4f}"
        for name, floor in recorded.items()
        if measured.get(name, 0.0) < floor
    ]


def raised(measured: dict[str, float], recorded: dict[str, float]) -> dict[str, float]:
    """The baseline after a run: each figure moves up to the measured one, never down."""
    return {name: max(recorded.get(name, 0.0), value) for name, value in measured.items()}


def development_sets() -> dict[str, dict[str, Page]]:
    """The sets `make eval` scores: those present beside the project."""
    sets = {}
    for name, fallback in (("aeb-dev", PAGES), ("wceb-dev", None)):
        folder = SHARED_DATA / name
        if (folder / "ground-truth.json").exists():
            sets[name] = load_pages(folder)
        elif fallback is not None:
            sets[name] = load_pages(fallback)
        else:
            print(f"{name}: not found at {folder}, skipped")
    return sets


def print_extraction(name: str, pages: dict[str, Page]) -> None:
    """Each extractor's P/R/F1 on the whole set and on each sub-dataset, from one pass; the
    extractors take turns on each page, so a slow moment of the machine costs them alike."""
    outputs: dict[str, dict[str, str]] = {extractor: {} for extractor in EXTRACTORS}
    seconds = dict.fromkeys(EXTRACTORS, 0.0)
    for page_id, page in pages.items():
        for extractor_name, extractor in EXTRACTORS.items():
            start = time.perf_counter()
            outputs[extractor_name][page_id] = extractor(page.html)
            seconds[extractor_name] += time.perf_counter() - start
    subsets = sorted({page.dataset for page in pages.values()})
    print(f"{name}: {len(pages)} pages" + (f" ({', '.join(subsets)})" if len(subsets) > 1 else ""))
    header = ("extractor", "subset", "pages", "P", "R", "F1", "ms/page")
    print("  {:<20} {:<12} {:>5} {:>6} {:>6} {:>6} {:>8}".format(*header))
    groups = [("all", list(pages))] + [
        (subset, [pid for pid, p in pages.items() if p.dataset == subset])
        for subset in subsets
        if len(subsets) > 1
    ]
    for extractor_name, texts in outputs.items():
        for subset, ids in groups:
            result = score([page_counts(pages[pid].truth, texts[pid]) for pid in ids])
            timing = (
                f"{1000 * seconds[extractor_name] / len(pages):>8.1f}" if subset == "all" else ""
            )
            print(
                f"  {extractor_name:<20} {subset:<12} {len(ids):>5} {result.precision:>6.3f} "
                f"{result.recall:>6.3f} {result.f1:>6.3f} {timing}"
            )
    ratio = seconds["docpipe"] / seconds["trafilatura-precise"]
    print(f"  docpipe takes {ratio:.2f}x trafilatura-precise's time per page")


def language_identification() -> None:
    """langid-dev (or the project's sample of it): the stage beside raw langdetect, then the
    same sentences through `docpipe run` as JSONL records."""
    folder = SHARED_DATA / "langid-dev"
    if not folder.is_dir():
        print(f"langid-dev: not found at {folder}; the project's sample instead")
    sentences = load_sentences(folder if folder.is_dir() else SENTENCES)
    print_langid(sentences)
    with tempfile.TemporaryDirectory(prefix="docpipe-langid-") as work:
        answers, rejects = through_pipeline(sentences, Path(work))
    title = "langid-dev through `docpipe run`, a JSONL record a sentence"
    print_tallies(f"{title} (rejects: {rejects or 'none'})", {"docpipe run": tally(answers)})


def print_entities() -> None:
    print(f"Entities: {len(ENTITY_TEXTS)} annotated English texts (tests/quality/entity_texts.py)")
    for name, result in entity_scores().items():
        print(f"  {name:<12} P {result.precision:.3f} R {result.recall:.3f} F1 {result.f1:.3f}")


def main(arguments: list[str]) -> int:
    for name, pages in development_sets().items():
        print_extraction(name, pages)
    language_identification()
    print_entities()
    print(f"Page dumps: {len(CASES)} cases x {len(FIELDS)} fields")
    for case in CASES:
        wrong = [name for name, ok in page_dump_results(case).items() if not ok]
        print(f"  {'ok  ' if not wrong else 'FAIL'} {case.name}" + (f": {wrong}" if wrong else ""))
    measured = measure()
    recorded = baseline()
    print(f"Measured {measured}; baseline {recorded}")
    if "--update-baseline" in arguments:
        BASELINE.write_text(json.dumps(raised(measured, recorded), indent=2) + "\n")
        print(f"Baseline now {baseline()}")
    problems = shortfalls(measured, recorded)
    for problem in problems:
        print(f"Below baseline: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
