"""Site furniture: what a site repeats on many pages goes, learned in a batch and remembered."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.models import Batch, CleanDocument, RawDocument
from tasks.clean import clean_batch
from tasks.common import doc_id_for
from tasks.site_furniture import (
    MEMORY_PAGES,
    fingerprint,
    fold_memory,
    learned_furniture,
    read_memory,
    remember,
    site_batches,
    site_of,
)
from tests.data.furniture_site import (
    FURNITURE_BLOCK,
    FURNITURE_LINES,
    HOST,
    QUOTE,
    QUOTED_BY,
    html_page,
    page_dump,
    title,
)

PAGES = 20


def _raw(number: int, kind: str = "text") -> RawDocument:
    source = f"https://www.{HOST}/news/{number}"
    content = page_dump(number) if kind == "text" else html_page(number)
    return RawDocument(
        doc_id=doc_id_for(source),
        source=source,
        content_sha256=str(number),
        content_type="text" if kind == "text" else "html",
        content=content,
    )


def _batch(numbers: range | list[int], kind: str = "text") -> Batch[RawDocument]:
    return Batch[RawDocument](name="b", documents=[_raw(n, kind) for n in numbers], rejects=[])


def _furniture_left(document: CleanDocument) -> list[str]:
    return [unit for unit in (*FURNITURE_LINES, FURNITURE_BLOCK) if unit in document.text]


@pytest.mark.parametrize(
    ("source", "site"),
    [
        ("https://www.Example.com/a/b?c", "example.com"),
        ("http://news.example.com/x", "news.example.com"),
        ("file:///data/crawl/site-a/page.txt", "file:///data/crawl/site-a"),
        ("file:///data/records.jsonl#L3", "file:///data"),
    ],
)
def test_site_of(source: str, site: str) -> None:
    assert site_of(source) == site


@pytest.mark.parametrize(
    ("sites", "size", "batches"),
    [
        ({"a": 20}, 8, [8, 12]),  # 20, 8 -> 8, 8, 4 would leave 4 pages of the site alone
        ({"a": 24}, 8, [8, 8, 8]),
        ({"a": 20, "b": 5}, 10, [10, 10, 5]),  # a batch ending with a whole site stays as it is
        ({"a": 3, "b": 3, "c": 3}, 2, [2, 2, 2, 2, 1]),  # too few pages of any site to learn
        ({"a": 7}, 3, [3, 3, 1]),
        ({"a": 30}, 200, [30]),
    ],
)
def test_batches_leave_no_site_a_remainder_too_small_to_learn_from(
    sites: dict[str, int], size: int, batches: list[int]
) -> None:
    locations = [
        f"https://{site}.example/{n}" for site, count in sites.items() for n in range(count)
    ]
    made = site_batches(locations, size)
    assert [len(batch) for batch in made] == batches
    assert sorted(location for batch in made for location in batch) == sorted(locations)


@pytest.mark.parametrize(
    ("pages_with_unit", "pages", "furniture"),
    [
        (2, 2, False),  # two articles quoting one sentence: never furniture
        (2, 20, False),
        (3, 4, False),  # four pages are too few to tell furniture from coincidence
        (4, 8, True),
        (3, 20, False),  # under half of a large site
        (6, 18, False),  # a third of the site: an update several pages got, not furniture
        (10, 20, True),
        (20, 20, True),
    ],
)
def test_learned_furniture_needs_three_pages_and_a_share(
    pages_with_unit: int, pages: int, furniture: bool
) -> None:
    unit = fingerprint("Subscribe")
    sets = [frozenset({unit, n}) for n in range(pages_with_unit)]
    sets += [frozenset({n}) for n in range(pages_with_unit, pages)]
    assert (unit in learned_furniture(sets)) is furniture


def test_page_dumps_of_one_site_lose_its_furniture_and_keep_a_shared_quote() -> None:
    cleaned = clean_batch(_batch(range(1, PAGES + 1)), "UTC")
    assert len(cleaned.documents) == PAGES
    for number, document in enumerate(cleaned.documents, start=1):
        assert _furniture_left(document) == []
        assert document.title == title(number)  # the site's name above it is not the title
        assert (QUOTE in document.text) is (number in QUOTED_BY)
    assert len(cleaned.site_pages) == PAGES
    assert {page.site for page in cleaned.site_pages} == {HOST}


def test_html_pages_of_one_site_lose_a_repeated_block() -> None:
    cleaned = clean_batch(_batch(range(1, PAGES + 1), "html"), "UTC")
    assert len(cleaned.documents) == PAGES
    assert all(_furniture_left(document) == [] for document in cleaned.documents)
    assert sum(QUOTE in document.text for document in cleaned.documents) == len(QUOTED_BY)


def test_one_new_page_learns_from_the_memory_of_earlier_runs(tmp_path: Path) -> None:
    alone = clean_batch(_batch([PAGES + 1]), "UTC").documents[0]
    assert _furniture_left(alone) != []  # one page alone teaches nothing

    remember(tmp_path, clean_batch(_batch(range(1, PAGES + 1)), "UTC").site_pages)
    memory = read_memory(tmp_path, [HOST])
    later = clean_batch(_batch([PAGES + 1]), "UTC", memory=memory).documents[0]
    assert _furniture_left(later) == []
    assert later.title == title(PAGES + 1)


def test_a_page_made_only_of_repeated_text_is_kept_whole() -> None:
    copies = Batch[RawDocument](
        name="b",
        documents=[
            _raw(1).model_copy(update={"doc_id": str(n), "source": f"https://{HOST}/{n}"})
            for n in range(5)
        ],
        rejects=[],
    )
    cleaned = clean_batch(copies, "UTC")
    alone = clean_batch(_batch([1]), "UTC").documents[0]
    assert [d.text for d in cleaned.documents] == [alone.text] * 5


def test_memory_folds_into_one_file_with_the_newest_pages(tmp_path: Path) -> None:
    for start in range(0, MEMORY_PAGES + 50, 50):
        pages = clean_batch(_batch(range(start, start + 50)), "UTC").site_pages
        remember(tmp_path, pages)
    assert fold_memory(tmp_path) == 1
    files = list((tmp_path / "_state" / "sites").rglob("*.parquet"))
    assert len(files) == 1
    kept = read_memory(tmp_path, [HOST])[HOST]
    assert len(kept) == MEMORY_PAGES
    assert doc_id_for(f"https://www.{HOST}/news/{MEMORY_PAGES + 49}") in kept  # newest kept
    assert doc_id_for(f"https://www.{HOST}/news/0") not in kept  # oldest gone
