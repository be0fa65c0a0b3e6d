"""Article extraction from HTML: three extractors that check each other.

Measured on both development sets (`make eval`; docs/cleaning.md has the figures and the design):

1. trafilatura (`favor_precision`, no comments, `fast`) gives the text and the metadata. It is
   precise, and on a page it reads right it is all docpipe keeps.
2. resiliparse's main-content extraction (about 2 ms) has high recall. When trafilatura's text
   covers at least half of it (three pages in four), trafilatura read the page right.
3. Otherwise readability-lxml reads the page too. Its paragraphs that resiliparse also holds
   are the article as two independent algorithms agree on it; when trafilatura covers less
   than `GATE` of them, it missed part of the article, and they are inserted in page order.

Dates: htmldate's fast search (markup, URL, time elements); a page with none of those has its
HTML searched for date patterns (htmldate's `search_page`). Its extensive search, which sends
candidate strings to dateparser in every language, costs about 50 ms a page on such pages and
found the same dates on the development pages, give or take a few days.
"""

from __future__ import annotations

from copy import copy
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import lxml.html
import readability
import readability.readability
import trafilatura
from htmldate import find_date
from htmldate.core import search_page
from htmldate.utils import Extractor as DateOptions
from htmldate.validators import get_max_date, get_min_date
from lxml import etree
from lxml.html import HtmlElement
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree
from trafilatura.metadata import examine_meta, extract_author, extract_meta_json, extract_title
from trafilatura.settings import Document as ExtractedPage
from trafilatura.utils import load_html

from schemas.models import RejectReason
from tasks.agreement import Text, with_missing
from tasks.page import Extracted, people

GATE = 0.6
# Below this share of resiliparse's text, trafilatura may have missed part of the article and
# readability reads the page too; above it the gate above never added a paragraph on the
# development pages (checked from 0.5 to 0.8), so readability's time is saved.
_READ_AGAIN_BELOW = 0.5
_PARSER_DEPTH = 256  # libxml2's limit without XML_PARSE_HUGE
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# readability's HTML cleaner with `javascript` off: that option rewrites every link looking for
# `javascript:` URLs (a third of readability's time) and changed no output on the 300
# development pages; scripts, styles and comments still go.
readability.readability.html_cleaner = copy(readability.readability.html_cleaner)
readability.readability.html_cleaner.javascript = False
_PAGE_SEARCH = DateOptions(True, get_max_date(None), get_min_date(None), True, _DATE_FORMAT)


def extract_html(html: str, source: str, timezone: ZoneInfo) -> Extracted:
    """Article text and metadata (title, authors, published time) of an HTML page.

    The HTML parser stops reading 256 elements deep. A page whose text lies deeper is read
    again with its bare wrappers (elements holding only one element) unwrapped; a page whose
    text is still out of reach says so instead of passing for an empty page.
    """
    page = _extract(html, source, timezone)
    if page.paragraphs or not _too_deep(html):
        return page
    page = _extract(_unwrapped(html), source, timezone)
    if page.paragraphs:
        return page
    detail = f"elements nest deeper than the HTML parser reads ({_PARSER_DEPTH} levels)"
    return Extracted(paragraphs=[], unreadable=(RejectReason.TOO_DEEPLY_NESTED, detail))


def _too_deep(html: str) -> bool:
    parser = etree.HTMLParser()
    etree.fromstring(html, parser)
    return any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


def _unwrapped(html: str) -> str:
    """The page with every element that holds nothing but one element replaced by it."""
    tree = lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(huge_tree=True))
    wrappers = [
        element
        for element in tree.body.iter()
        if element is not tree.body and len(element) == 1 and not (element.text or "").strip()
    ]
    for element in wrappers:
        element.drop_tag()
    return str(lxml.html.tostring(tree, encoding="unicode"))


def _extract(html: str, source: str, timezone: ZoneInfo) -> Extracted:
    url = source if source.startswith("http") else None
    tree = load_html(html)
    if tree is None:
        return Extracted(paragraphs=[])
    title, authors, published = _metadata(tree, html, url, timezone)
    declared = declared_language(tree)
    # trafilatura prunes the tree it is given: the metadata is read first.
    result = trafilatura.bare_extraction(
        tree, url=url, favor_precision=True, include_comments=False, fast=True
    )
    precise = result.text or "" if isinstance(result, ExtractedPage) else ""
    return Extracted(
        paragraphs=checked_by_others(html, precise),
        title=title,
        published_at=published,
        authors=authors,
        declared_language=declared,
    )


_DECLARATIONS = (
    "/html/@lang",
    "//meta[@property='og:locale']/@content",
    "//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']"
    "/@content",
)


def declared_language(tree: HtmlElement) -> str | None:
    """The language tag the page declares, as written: its `lang`, `og:locale` or
    Content-Language meta, the first one present."""
    for path in _DECLARATIONS:
        for value in tree.xpath(path):
            if tag := str(value).split(",")[0].strip():
                return tag
    return None


def _metadata(
    tree: HtmlElement, html: str, url: str | None, timezone: ZoneInfo
) -> tuple[str | None, list[str], datetime | None]:
    """Title, authors and publication time, as `trafilatura.extract_metadata` finds them,
    less what docpipe does not keep (site name, categories, tags, licence: a third of its
    time)."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:  # a bare handle, not a name
        meta.author = None
    meta = extract_meta_json(tree, meta)
    date = find_date(
        tree, url=url, extensive_search=False, original_date=True, outputformat=_DATE_FORMAT
    ) or search_page(html, _PAGE_SEARCH)
    published = None
    if date:
        published = datetime.fromisoformat(date).replace(tzinfo=timezone).astimezone(UTC)
    title = meta.title or extract_title(tree)
    return title or None, people((meta.author or extract_author(tree) or "").split(";")), published


def checked_by_others(html: str, precise: str) -> list[str]:
    """The paragraphs of trafilatura's `precise` text, completed by what readability and
    resiliparse agree it missed."""
    base, main = Text(precise), Text(_resiliparse(html))
    if base.coverage(main.paragraphs) >= _READ_AGAIN_BELOW:
        return base.paragraphs
    agreed = [p for p in Text(_readability(html)).paragraphs if main.contains(p)]
    if base.coverage(agreed) >= GATE:
        return base.paragraphs
    return with_missing(base, agreed)


def _resiliparse(html: str) -> str:
    return str(extract_plain_text(HTMLTree.parse(html), main_content=True))


def _readability(html: str) -> str:
    """readability-lxml's article, as text with one paragraph a line."""
    try:
        summary = readability.Document(html).summary(html_partial=True)
    except Exception:  # readability raises on pages it cannot score (empty, odd markup)
        return ""
    return str(extract_plain_text(HTMLTree.parse(summary), main_content=False))
