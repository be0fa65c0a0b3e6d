"""Site furniture through the flow: a 20-page site is learned, remembered in the output's
state, and a later run on one new page of the site is cleaned by what was learned."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.verify import verify_output
from tests.data.furniture_site import FURNITURE_LINES, QUOTE, QUOTED_BY, page_dump, title
from tests.flows.runs import rows, run

pytestmark = pytest.mark.usefixtures("prefect_api")
PAGES = 20


def _write_pages(site: Path, numbers: range) -> None:
    site.mkdir(exist_ok=True)
    for number in numbers:
        (site / f"{number:03d}.txt").write_text(page_dump(number), encoding="utf-8")


def test_a_site_is_learned_remembered_and_applied_to_a_later_page(tmp_path: Path) -> None:
    site, output = tmp_path / "harbourtown", tmp_path / "out"
    _write_pages(site, range(1, PAGES + 1))
    run([site], output, batch_size=8)  # the site's pages in three batches
    documents = {row["title"]: row for row in rows(output, "documents")}
    assert len(documents) == PAGES
    for number in range(1, PAGES + 1):
        text = documents[title(number)]["text"]
        assert not [line for line in FURNITURE_LINES if line in text]
        assert (QUOTE in text) is (number in QUOTED_BY)

    _write_pages(site, range(PAGES + 1, PAGES + 2))
    run([site], output)
    later = next(row for row in rows(output, "documents") if row["title"] == title(PAGES + 1))
    assert not [line for line in FURNITURE_LINES if line in later["text"]]
    assert len(list((output / "_state" / "sites").rglob("*.parquet"))) == 1  # folded
    assert verify_output(output).ok
