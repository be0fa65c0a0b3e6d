"""Clean: a table of page dumps (input, expected fields and body), traps included."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from schemas.models import Batch, RawDocument
from tasks.clean import clean_batch, clean_page_dump, extract_html, parse_dateline
from tests.conftest import SEED_PAGE

SEOUL = ZoneInfo("Asia/Seoul")

SEED_BODY_START = "China and Russia share"
SEED_BODY_END = "between the two countries."

# (case, dump, title, published_at (UTC, timezone Asia/Seoul), authors, emails, body paragraphs)
PAGE_DUMPS = [
    (
        "clean article: only the title goes",
        "Markets Rally\n\nStocks rose on Monday.\n\nBonds fell.\n",
        "Markets Rally",
        None,
        [],
        [],
        ["Stocks rose on Monday.", "Bonds fell."],
    ),
    (
        "furniture at head and tail",
        "Skip to main content\n\nRice Prices Climb\n\nPosted Sept. 3, 2004 09:05,\n\n"
        "한국어 | 日本語 | 中文\n\nRice prices climbed for a third week.\n\n"
        "By Kim Ji-hoon Staff Reporter\n\nkim@example.com\n",
        "Rice Prices Climb",
        datetime(2004, 9, 3, 0, 5, tzinfo=UTC),
        ["Kim Ji-hoon"],
        ["kim@example.com"],
        ["Rice prices climbed for a third week."],
    ),
    (
        "trap: body sentences mentioning e-mail, posted and go to contents stay",
        "Go to contents\n\nReader Mail\n\n"
        "Readers can write to letters@example.com with their views.\n\n"
        "She posted the letter and said: go to contents of the box first.\n\n"
        "Go to contents\n",
        "Reader Mail",
        None,
        [],
        [],
        [
            "Readers can write to letters@example.com with their views.",
            "She posted the letter and said: go to contents of the box first.",
            "Go to contents",
        ],
    ),
    (
        "Korean dateline and byline with e-mail, CRLF line endings",
        "본문 바로가기\r\n\r\n쌀값 3주째 상승\r\n\r\n입력 2003-05-12 18:40\r\n\r\n"
        "쌀값이 3주째 올랐다.\r\n\r\n홍길동 기자 hong@example.com\r\n",
        "쌀값 3주째 상승",
        datetime(2003, 5, 12, 9, 40, tzinfo=UTC),
        ["홍길동"],
        ["hong@example.com"],
        ["쌀값이 3주째 올랐다."],
    ),
    (
        "several reporter e-mails on the last lines, NBSP in the dateline",
        "Trade Talks Resume\n\nPosted\u00a0Jul.\u00a018,\u00a02002\u00a0\u00a0\n\n"
        "Negotiators met again on Thursday.\n\na@example.com b@example.com\n\nc@example.com\n",
        "Trade Talks Resume",
        datetime(2002, 7, 17, 15, 0, tzinfo=UTC),
        [],
        ["c@example.com", "a@example.com", "b@example.com"],
        ["Negotiators met again on Thursday."],
    ),
]


@pytest.mark.parametrize(
    ("dump", "title", "published_at", "authors", "emails", "body"),
    [case[1:] for case in PAGE_DUMPS],
    ids=[case[0] for case in PAGE_DUMPS],
)
def test_page_dump_cleaning(
    dump: str,
    title: str,
    published_at: datetime | None,
    authors: list[str],
    emails: list[str],
    body: list[str],
) -> None:
    page = clean_page_dump(dump, SEOUL)
    assert (page.title, page.published_at, page.authors) == (title, published_at, authors)
    assert sorted(page.author_emails) == sorted(emails)
    assert page.paragraphs == body


def test_seed_page() -> None:
    page = clean_page_dump(SEED_PAGE.read_text(encoding="utf-8"), ZoneInfo("UTC"))
    assert page.title == "China, Russia Highlight Security Cooperation"
    assert page.published_at == datetime(2002, 7, 18, 22, 21, tzinfo=UTC)
    assert page.author_emails == ["yshwang@donga.com"]
    assert len(page.paragraphs) == 7
    assert page.paragraphs[0].startswith(SEED_BODY_START)
    assert page.paragraphs[-1].endswith(SEED_BODY_END)
    body = "\n".join(page.paragraphs)
    for furniture in ("Go to contents", "Posted", "한국어", "yshwang"):
        assert furniture not in body


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Posted July. 18, 2002 22:21,", ("posted", datetime(2002, 7, 18, 13, 21, tzinfo=UTC))),
        ("Updated Mar. 2, 2010", ("updated", datetime(2010, 3, 1, 15, 0, tzinfo=UTC))),
        ("記事入力 : 2004/08/09 14:25", ("記事入力", datetime(2004, 8, 9, 5, 25, tzinfo=UTC))),
        ("发布时间 2005.09.01 09:30", ("发布时间", datetime(2005, 9, 1, 0, 30, tzinfo=UTC))),
        ("Posted Smarch. 40, 2002", None),
        ("Posted on the wall yesterday", None),
    ],
)
def test_parse_dateline(line: str, expected: tuple[str, datetime] | None) -> None:
    assert parse_dateline(line, SEOUL) == expected


ARTICLE_HTML = """<html><head><title>Harbour Reopens | The Example Times</title>
<meta property="og:title" content="Harbour Reopens After Storm">
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2021-03-04T08:30:00">
</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Harbour Reopens After Storm</h1>
<p>The harbour reopened on Thursday after a week of repairs to the storm-damaged piers.</p>
<p>Fishing boats returned to their moorings by noon, and the ferry resumed its schedule.</p>
</article><footer>Copyright The Example Times. Share on social media.</footer></body></html>"""


def test_html_article_and_metadata_by_trafilatura() -> None:
    page = extract_html(ARTICLE_HTML, "file:///page.html", ZoneInfo("UTC"))
    assert page.title == "Harbour Reopens After Storm"
    assert page.authors == ["Jane Roe"]
    assert page.published_at == datetime(2021, 3, 4, 8, 30, tzinfo=UTC)
    assert page.paragraphs[0].startswith("The harbour reopened")
    assert not any("Home" in p or "Copyright" in p for p in page.paragraphs)


def test_page_left_empty_is_rejected_with_its_reason() -> None:
    raw = [
        RawDocument(
            doc_id=f"id{n}",
            source=f"file:///{n}.txt",
            content_sha256="0",
            content_type="text",
            content=content,
        )
        for n, content in enumerate(["Go to contents\n\nPosted July. 18, 2002\n", "Title\n\nBody."])
    ]
    cleaned = clean_batch(Batch[RawDocument](name="b", documents=raw, rejects=[]), "UTC")
    assert [d.source for d in cleaned.documents] == ["file:///1.txt"]
    assert cleaned.documents[0].text == "Body."
    assert [(r.source, r.stage, r.reason) for r in cleaned.rejects] == [
        ("file:///0.txt", "clean", "empty_after_cleaning")
    ]
