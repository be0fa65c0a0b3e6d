"""The quality gate: extraction F1 and page-dump accuracy never fall below the baseline.

`make eval` (python -m tests.quality.gate) prints precision, recall and F1 of trafilatura
alone and of docpipe on the benchmark pages, and the page-dump table's accuracy.
`--update-baseline` records higher figures; the baseline only moves up.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tasks.clean_dump import clean_page_dump
from tests.quality.extraction import EXTRACTORS, docpipe, evaluate, load_pages
from tests.quality.page_dumps import CASES, FIELDS, TIMEZONE, DumpCase

BASELINE = Path(__file__).resolve().parent / "baseline.json"


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
    overall, _ = evaluate(docpipe, load_pages())
    return {"html_f1": round(overall.f1, 4), "page_dump_accuracy": round(page_dump_accuracy(), 4)}


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


def main(arguments: list[str]) -> int:
    pages = load_pages()
    print(f"HTML extraction on {len(pages)} article-extraction-benchmark pages:")
    print(f"  {'extractor':<12} {'precision':>9} {'recall':>7} {'F1':>7} {'ms/page':>8}")
    for name, extractor in EXTRACTORS.items():
        start = time.perf_counter()
        overall, _ = evaluate(extractor, pages)
        per_page_ms = 1000 * (time.perf_counter() - start) / len(pages)
        print(
            f"  {name:<12} {overall.precision:>9.3f} {overall.recall:>7.3f} "
            f"{overall.f1:>7.3f} {per_page_ms:>8.1f}"
        )
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
