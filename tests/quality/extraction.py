"""Extraction quality on benchmark pages, by the article-extraction benchmark's metric.

The metric is the benchmark's own: texts split into `\\w+` tokens, multisets of 4-token
shingles compared per page (tp, fp, fn normalised to sum 1 so that pages weigh equally),
precision and recall averaged over pages, F1 of those averages.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import trafilatura

from tasks.clean_html import extract_html

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "aeb"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SHINGLE = 4


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(
        tuple(tokens[i : i + _SHINGLE]) for i in range(max(1, len(tokens) - _SHINGLE + 1))
    )


def page_counts(truth: str, prediction: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingles, normalised to sum 1."""
    true, pred = _shingles(truth), _shingles(prediction)
    tp = sum((true & pred).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score(counts: list[tuple[float, float, float]]) -> Score:
    def ratio(tp: float, other: float, fp: float, fn: float) -> float:
        if fp == fn == 0:
            return 1.0
        return tp / (tp + other) if tp + other else 0.0

    precision = statistics.mean(ratio(tp, fp, fp, fn) for tp, fp, fn in counts if tp + fp > 0)
    recall = statistics.mean(ratio(tp, fn, fp, fn) for tp, fp, fn in counts if tp + fn > 0)
    return Score(precision, recall)


@dataclass(frozen=True)
class Page:
    html: str
    truth: str
    dataset: str  # the sub-dataset a page comes from (wceb-dev has several)


def load_pages(directory: Path = PAGES) -> dict[str, Page]:
    """id -> page, for a folder laid out as the benchmark's (`html/<id>.html.gz`,
    `ground-truth.json`)."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    return {
        page_id: Page(
            html=gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes()).decode(),
            truth=entry["articleBody"],
            dataset=entry.get("dataset", directory.name),
        )
        for page_id, entry in sorted(truth.items())
    }


def trafilatura_default(html: str) -> str:
    return trafilatura.extract(html) or ""


def trafilatura_precise(html: str) -> str:
    """The best settings of trafilatura alone measured here."""
    return trafilatura.extract(html, favor_precision=True, include_comments=False) or ""


def docpipe(html: str) -> str:
    return "\n\n".join(extract_html(html, "file:///page.html", ZoneInfo("UTC")).paragraphs)


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "trafilatura": trafilatura_default,
    "trafilatura-precise": trafilatura_precise,
    "docpipe": docpipe,
}


def evaluate(extractor: Callable[[str], str], pages: dict[str, Page]) -> Score:
    """The overall score of `extractor` on `pages`."""
    return score([page_counts(page.truth, extractor(page.html)) for page in pages.values()])
