"""Clean stage: strip page furniture from the body and keep the facts it carries as fields.

Page dumps (text saved from a news page, like `seeds/`) are cleaned by line patterns that
only ever match a whole line at the head or the tail of the page, never inside the body:
a body sentence that mentions an e-mail address or the words "go to contents" stays.
HTML pages go through trafilatura, which extracts the article and its metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import trafilatura
from prefect import task
from trafilatura.settings import Document as ExtractedPage

from schemas.models import Batch, CleanDocument, RawDocument, Reject, Stage
from tasks.common import STAGE_TASK_OPTIONS, log_stage, stage_cache_key

_SKIP_LINK = re.compile(
    r"(?:go|skip|jump) to (?:the )?(?:main )?(?:contents?|article|navigation)"
    r"|skip navigation|본문\s*바로\s*가기|本文へ(?:移動|スキップ)?|跳(?:到|至|转到)正文",
    re.IGNORECASE,
)
_LANGUAGE_NAME = (
    r"(?:한국어|English|日本語|中文|简体中文|繁體中文|Français|Español|Deutsch|Русский"
    r"|Português|Italiano|العربية|Tiếng Việt|Bahasa Indonesia|ไทย)"
)
_LANGUAGE_SWITCHER = re.compile(rf"{_LANGUAGE_NAME}(?:\s*[|/·,]?\s*{_LANGUAGE_NAME})*")
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_ROLE_WORD = r"(?:Staff|Senior|Chief|Special|Reporter|Correspondent|Writer|Editor)\b"
_NAME_WORD = rf"(?!{_ROLE_WORD})[A-Z][\w'’.-]*"
_NAME = rf"(?:{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}|[가-힣]{{2,4}}|[\u4e00-\u9fff]{{2,4}})"
_ROLE = (
    r"(?:(?:Staff|Senior|Chief|Special)\s+)?(?:Reporter|Correspondent|Writer|Editor)"
    r"|기자|特派员|记者"
)
# "By Kim Ji-hoon Staff Reporter", "By Jane Doe, Correspondent", "홍길동 기자 hong@x.com",
# "记者 崔允贞", "yshwang@donga.com", "a@x.com; b@x.com"
_BYLINE = re.compile(
    rf"(?:By\s+(?P<by>{_NAME})\.?(?:\s*,?\s*{_ROLE})?"
    rf"|(?:记者|記者)\s*(?P<prefixed>{_NAME})"
    rf"|(?P<named>{_NAME})\s*(?:{_ROLE}))?"
    rf"\s*,?\s*(?P<emails>(?:{_EMAIL}\s*[,;/]?\s*)*)"
)
_COPYRIGHT = re.compile(r"(?:©|ⓒ|\(c\)|copyright\b).{0,200}", re.IGNORECASE)
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
_DATELINE = re.compile(
    r"(?P<kind>Posted|Published|Updated|Modified|Last updated|입력|수정|업데이트|記事入力|更新"
    r"|发布时间|更新时间|發布時間)\s*:?\s*(?P<when>.+?)[\s,]*"
)
_DATE_PATTERNS = (
    # "July. 18, 2002 22:21", "Sept. 3, 2004", "Jul 18 2002"
    re.compile(
        r"(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})"
        r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
    ),
    # "2003-05-12 18:40", "2004/08/09 14:25", "2005.09.01 09:30"
    re.compile(
        r"(?P<year>\d{4})[-./](?P<month>\d{1,2})[-./](?P<day>\d{1,2})\.?"
        r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
    ),
)
_PUBLISHED_KINDS = {"posted", "published", "입력", "記事入力", "发布时间", "發布時間"}
_TITLE_MAX_CHARS = 200
_SENTENCE_END = (".", "!", "?", "。", "！", "？", "다.")


@dataclass
class Extracted:
    """What cleaning found in one page."""

    paragraphs: list[str]
    title: str | None = None
    published_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    author_emails: list[str] = field(default_factory=list)


def parse_dateline(line: str, timezone: ZoneInfo) -> tuple[str, datetime] | None:
    """(kind, UTC time) of a dateline such as "Posted July. 18, 2002 22:21,", else None."""
    match = _DATELINE.fullmatch(line)
    if match is None:
        return None
    for pattern in _DATE_PATTERNS:
        date = pattern.fullmatch(match["when"])
        if date is None:
            continue
        month_text = date["month"]
        month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text.lower())
        if month is None:
            return None
        try:
            local = datetime(
                int(date["year"]), month, int(date["day"]),
                int(date["hour"] or 0), int(date["minute"] or 0), tzinfo=timezone,
            )  # fmt: skip
        except ValueError:
            return None
        return match["kind"].lower(), local.astimezone(UTC)
    return None


def _byline(line: str) -> tuple[list[str], list[str]] | None:
    """(names, e-mails) if the whole line is a byline or a list of reporter e-mails."""
    match = _BYLINE.fullmatch(line)
    if match is None or not line.strip():
        return None
    names = [name for name in (match["by"], match["prefixed"], match["named"]) if name]
    emails = re.findall(_EMAIL, match["emails"] or "")
    return (names, emails) if names or emails else None


def clean_page_dump(text: str, timezone: ZoneInfo) -> Extracted:
    """Remove the furniture at the head and tail of a page dump; keep its facts as fields."""
    lines = [" ".join(line.split()) for line in text.splitlines()]  # folds NBSP and tabs too
    lines = [line for line in lines if line]
    page = Extracted(paragraphs=[])

    def take_byline(line: str) -> bool:
        found = _byline(line)
        if found is None:
            return False
        page.authors.extend(name for name in found[0] if name not in page.authors)
        page.author_emails.extend(email for email in found[1] if email not in page.author_emails)
        return True

    start = 0
    for line in lines:
        dateline = parse_dateline(line, timezone)
        if dateline is not None:
            kind, when = dateline
            if kind in _PUBLISHED_KINDS and page.published_at is None:
                page.published_at = when
        elif not (
            _SKIP_LINK.fullmatch(line) or _LANGUAGE_SWITCHER.fullmatch(line) or take_byline(line)
        ):
            if page.title is not None or not _looks_like_title(line):
                break
            page.title = line
        start += 1
    end = len(lines)
    while end > start and (_COPYRIGHT.fullmatch(lines[end - 1]) or take_byline(lines[end - 1])):
        end -= 1
    page.paragraphs = lines[start:end]
    return page


def _looks_like_title(line: str) -> bool:
    return len(line) <= _TITLE_MAX_CHARS and not line.endswith(_SENTENCE_END)


def extract_html(html: str, source: str, timezone: ZoneInfo) -> Extracted:
    """Article text and metadata of an HTML page, by trafilatura."""
    result = trafilatura.bare_extraction(
        html,
        url=source if source.startswith("http") else None,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        date_extraction_params={
            "extensive_search": True,
            "original_date": True,
            "outputformat": "%Y-%m-%d %H:%M:%S",
        },
    )
    if not isinstance(result, ExtractedPage):  # None: trafilatura found no article
        return Extracted(paragraphs=[])
    published = None
    if result.date:
        published = datetime.fromisoformat(result.date).replace(tzinfo=timezone).astimezone(UTC)
    authors = [name.strip() for name in (result.author or "").split(";") if name.strip()]
    paragraphs = [" ".join(line.split()) for line in (result.text or "").splitlines()]
    paragraphs = [p for p in paragraphs if p]
    if paragraphs and paragraphs[0] == result.title:  # the headline is a field, not body
        paragraphs = paragraphs[1:]
    return Extracted(
        paragraphs=paragraphs,
        title=result.title or None,
        published_at=published,
        authors=authors,
    )


def clean_batch(batch: Batch[RawDocument], timezone: str) -> Batch[CleanDocument]:
    """Clean every document; one left with no body becomes an `empty_after_cleaning` reject."""
    zone = ZoneInfo(timezone)
    documents: list[CleanDocument] = []
    rejects: list[Reject] = []
    for raw in batch.documents:
        if raw.content_type == "html":
            page = extract_html(raw.content, raw.source, zone)
        else:
            page = clean_page_dump(raw.content, zone)
        if not page.paragraphs:
            rejects.append(
                Reject(
                    source=raw.source,
                    stage=Stage.CLEAN,
                    reason="empty_after_cleaning",
                    detail="no body text left once page furniture was removed",
                )
            )
            continue
        documents.append(
            CleanDocument(
                doc_id=raw.doc_id,
                source=raw.source,
                content_sha256=raw.content_sha256,
                title=page.title,
                published_at=page.published_at,
                authors=page.authors,
                author_emails=page.author_emails,
                text="\n\n".join(page.paragraphs),
            )
        )
    return Batch[CleanDocument](name=batch.name, documents=documents, rejects=rejects)


@task(
    name="clean",
    task_run_name="clean {batch.name}",
    cache_key_fn=stage_cache_key(),
    **STAGE_TASK_OPTIONS,
)
def clean_documents(batch: Batch[RawDocument], timezone: str) -> Batch[CleanDocument]:
    cleaned = clean_batch(batch, timezone)
    log_stage("clean", cleaned)
    return cleaned
