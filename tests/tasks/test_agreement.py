"""Agreement between extractors, and how docpipe's HTML extraction uses it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tasks.agreement import Text, with_missing
from tasks.clean_html import checked_by_others, extract_html

ARTICLE = [
    "The council approved the new harbour wall after a two hour debate on Tuesday evening.",
    "Engineers said work would start in spring and last about eighteen months in all.",
    "Residents who opposed the plan said they would appeal to the regional planning board.",
]


@pytest.mark.parametrize(
    ("text", "paragraph", "contained"),
    [
        (ARTICLE[0], ARTICLE[0], True),
        (ARTICLE[0].upper(), ARTICLE[0], True),  # case does not matter
        (ARTICLE[0].replace("two hour", "two-hour"), ARTICLE[0], True),  # nor punctuation
        ("\n".join(ARTICLE), ARTICLE[1][:40], True),  # a part of a paragraph
        (ARTICLE[0], ARTICLE[1], False),
        ("Share this", "Share this", True),  # short: a run of the same words
        ("This page is not shared", "Share this", False),
    ],
)
def test_contains(text: str, paragraph: str, contained: bool) -> None:
    assert Text(text).contains(paragraph) is contained


def test_coverage_weighs_paragraphs_by_their_words() -> None:
    base = Text(ARTICLE[0])
    assert base.coverage(ARTICLE[:1]) == 1.0
    assert base.coverage([ARTICLE[0], "Tiny note"]) == pytest.approx(15 / 17)
    assert base.coverage([]) == 1.0


def test_missing_paragraphs_are_inserted_in_page_order() -> None:
    base = Text("\n".join([ARTICLE[0], ARTICLE[2]]))
    assert with_missing(base, ARTICLE) == ARTICLE
    assert with_missing(Text(""), ARTICLE[1:]) == ARTICLE[1:]


def _page(article: str, aside: str = "") -> str:
    return (
        "<html><head><title>Harbour wall approved</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article><h1>Harbour wall approved</h1>{article}</article>{aside}"
        "<footer>Example Gazette</footer></body></html>"
    )


def test_a_page_trafilatura_reads_right_is_its_text_alone() -> None:
    html = _page("".join(f"<p>{p}</p>" for p in ARTICLE))
    assert checked_by_others(html, "\n".join(ARTICLE)) == ARTICLE


def test_what_trafilatura_missed_comes_back_when_the_others_agree() -> None:
    html = _page("".join(f"<p>{p}</p>" for p in ARTICLE))
    merged = checked_by_others(html, ARTICLE[0])  # as if the precise run kept one paragraph
    assert merged[-3:] == ARTICLE  # the headline may precede them, as the others read it


def test_a_job_title_in_a_byline_is_not_an_author() -> None:
    html = _page('<p class="byline">By Sarah Jones, Environment Correspondent</p>' + "".join(
        f"<p>{p}</p>" for p in ARTICLE
    ))  # fmt: skip
    assert extract_html(html, "file:///page.html", ZoneInfo("UTC")).authors == ["Sarah Jones"]
