"""Page dumps (text saved from a news page, like `seeds/`): furniture out, facts kept.

Every line is classified by patterns that must match the WHOLE line, so a body sentence that
mentions an e-mail address, "print", "posted" or "go to contents" is never furniture. Where a
kind of furniture may stand decides whether it is removed there:

- head (before the first body paragraph): skip links, datelines, language switchers, bylines,
  share/print buttons, photo captions; the first title-like line is the title;
- tail (after the last body paragraph): datelines, bylines and reporter e-mails, copyright,
  buttons, switchers; a "Related Articles" heading drops the rest of the page;
- anywhere: photo captions and button rows.

Facts are kept as fields: title, published and updated time, authors, author e-mails and
the other language editions the page links to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum, auto
from zoneinfo import ZoneInfo

from tasks.page import CJK_ROLES, ROLE_WORDS, Extracted, people
from tasks.site_furniture import without_furniture

_SKIP_LINK = re.compile(
    r"(?:go|skip|jump) to (?:the )?(?:main )?(?:contents?|article|navigation|story)"
    r"|skip navigation|본문\s*바로\s*가기|본문으로\s*바로가기|本文へ(?:移動|スキップ)?"
    r"|本文にスキップ|跳(?:到|至|转到)(?:正文|主要内容)|跳過導覽",
    re.IGNORECASE,
)
# Edition names as sites write them -> ISO 639-1 code.
EDITIONS = {
    "한국어": "ko", "korean": "ko", "english": "en", "日本語": "ja", "japanese": "ja",
    "中文": "zh", "简体中文": "zh", "繁體中文": "zh", "chinese": "zh", "français": "fr",
    "español": "es", "deutsch": "de", "русский": "ru", "português": "pt", "italiano": "it",
    "العربية": "ar", "tiếng việt": "vi", "bahasa indonesia": "id", "ไทย": "th",
}  # fmt: skip
_EDITION = "|".join(sorted((re.escape(name) for name in EDITIONS), key=len, reverse=True))
_SWITCHER = re.compile(rf"(?:{_EDITION})(?:\s*[|/·,]?\s*(?:{_EDITION}))*", re.IGNORECASE)
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_NAME_WORD = rf"(?!(?:{ROLE_WORDS})\b)[A-Z][\w'’.-]*"
_NAME = rf"(?:{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}|[가-힣]{{2,4}}|[\u4e00-\u9fff]{{2,4}})"
# A job title or desk: "Staff Reporter", "Environment Correspondent", "Seoul Bureau Chief".
_ROLE = rf"(?:[A-Z][\w&'’.-]*\s+){{0,3}}(?:{ROLE_WORDS})\b|(?:[가-힣]{{1,4}})?(?:{CJK_ROLES})"
# "By Kim Ji-hoon Staff Reporter", "By Jane Doe, Correspondent", "By Business Desk",
# "홍길동 기자 hong@x.com", "记者 崔允贞 报道", "山田太郎記者", "yshwang@donga.com",
# "a@x.com; b@x.com"
_BYLINE = re.compile(
    rf"(?:By\s+(?P<by>{_NAME})\.?(?:\s*,?\s*{_ROLE})?|By\s+(?:{_ROLE})"
    rf"|(?:记者|記者)\s*(?P<prefixed>{_NAME})(?:\s*报道)?"
    rf"|(?P<named>{_NAME})\s*(?:{_ROLE}))?"
    rf"[\s,]*(?P<emails>(?:{_EMAIL}[\s,;/]*)*)"
)
_COPYRIGHT = re.compile(
    r"(?:©|ⓒ|\(c\)|copyright\b|저작권자|無断転載|版权所有|版權所有).{0,200}", re.IGNORECASE
)
_RELATED = re.compile(
    r"(?:related (?:articles?|stories|news|links)|more (?:stories|news)|see also|read more"
    r"|관련\s*기사|관련\s*뉴스|関連記事|関連ニュース|相关(?:新闻|文章|阅读)|相關新聞)\s*:?",
    re.IGNORECASE,
)
_CAPTION = re.compile(
    r"(?:\(?(?:photo|photograph|image|picture|graphic)s?\s*(?:=|:|by\b|courtesy\b)"
    r"|\[?사진\s*[=:]|\[사진\]|\(사진|写真\s*[:：=]|\(写真|图片\s*[:：]|图为|圖為|圖片\s*[:：]).*",
    re.IGNORECASE,
)
_BUTTON = (
    r"(?:share(?: this(?: article)?)?|print(?: this(?: article)?)?|e-?mail|facebook|twitter|x"
    r"|linkedin|kakao(?:talk|story)?|line|naver|band|weibo|wechat|whatsapp|telegram|reddit"
    r"|font size|text size|a\+|a-|a|listen|save|bookmark|comments?|copy (?:link|url)|scrap"
    r"|공유(?:하기)?|인쇄|글자\s*크기|스크랩|댓글|페이스북|트위터|카카오톡|(?:url|링크)\s*복사"
    r"|印刷|共有|シェア|ツイート|文字サイズ|(?:url|リンク)をコピー"
    r"|分享|打印|字号|字體|收藏|微博|微信|复制链接|複製連結)"
)
_BUTTONS = re.compile(rf"{_BUTTON}(?:\s*[|/·,]?\s*{_BUTTON})*", re.IGNORECASE)
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
_DATE = (
    # "July. 18, 2002 22:21", "Sept. 3, 2004", "Jul 18 2002"
    r"(?:(?P<mname>[A-Za-z]+)\.?\s+(?P<dday>\d{1,2}),?\s+(?P<dyear>\d{4})"
    # "2003-05-12 18:40", "2004/08/09 14:25", "2005.09.01 09:30", "2005年9月1日 09:30"
    r"|(?P<year>\d{4})\s*[-./年]\s*(?P<month>\d{1,2})\s*[-./月]\s*(?P<day>\d{1,2})\s*[.日]?)"
    r"(?:\s*(?P<hour>\d{1,2})\s*[:時时]\s*(?P<minute>\d{2})分?)?"
)
_KIND = (
    r"(?P<kind>Posted|Published|Updated|Modified|Last updated|Edited|Revised|입력|수정|업데이트"
    r"|최종\s*수정|記事入力|最終更新|更新|发布时间|發布時間|发表时间|更新时间|更新時間)"
)
_DATELINE_ITEM = re.compile(rf"{_KIND}\s*(?:on|:|：)?\s*{_DATE}", re.IGNORECASE)
_ONE_DATELINE = re.sub(r"\(\?P<\w+>", "(?:", _DATELINE_ITEM.pattern)  # unnamed, to repeat
_DATELINE = re.compile(rf"{_ONE_DATELINE}(?:[\s,|·/]*{_ONE_DATELINE})*[\s,|·/]*", re.IGNORECASE)
_PUBLISHED_KINDS = ("posted", "published", "입력", "記事入力", "发布时间", "發布時間", "发表时间")
_TITLE_MAX_CHARS = 200
# A line this short that is no sentence ("Copy URL", "Pinterest") is furniture when it
# stands in a run of furniture at the head or the tail.
_FRAGMENT_CHARS = 24
_FRAGMENT_WORDS = 3
# Sentence terminals of the scripts (Devanagari danda, Arabic question mark, Urdu full stop,
# Armenian, Ethiopic); a closing quote or bracket after one is still the sentence's end.
_SENTENCE_END = re.compile(r"[.!?。！？।॥؟۔։።][\"'”’»)\]」』]*$")


class Kind(Enum):
    SKIP_LINK = auto()
    DATELINE = auto()
    SWITCHER = auto()
    BYLINE = auto()
    COPYRIGHT = auto()
    RELATED = auto()
    CAPTION = auto()
    BUTTONS = auto()
    TEXT = auto()


_HEAD = {Kind.SKIP_LINK, Kind.DATELINE, Kind.SWITCHER, Kind.BYLINE, Kind.CAPTION, Kind.BUTTONS}
_TAIL = {Kind.DATELINE, Kind.SWITCHER, Kind.BYLINE, Kind.COPYRIGHT, Kind.BUTTONS}
_ANYWHERE = {Kind.CAPTION, Kind.BUTTONS}
_CLASSIFIERS: list[tuple[Kind, Callable[[str], object]]] = [
    (Kind.SKIP_LINK, _SKIP_LINK.fullmatch),
    (Kind.DATELINE, _DATELINE.fullmatch),
    (Kind.SWITCHER, _SWITCHER.fullmatch),
    (Kind.BUTTONS, _BUTTONS.fullmatch),
    (Kind.COPYRIGHT, _COPYRIGHT.fullmatch),
    (Kind.RELATED, _RELATED.fullmatch),
    (Kind.CAPTION, _CAPTION.fullmatch),
    (Kind.BYLINE, lambda line: _byline(line) is not None),
]


def classify(line: str) -> Kind:
    return next((kind for kind, matches in _CLASSIFIERS if matches(line)), Kind.TEXT)


def parse_datelines(line: str, timezone: ZoneInfo) -> list[tuple[str, datetime]]:
    """(kind, UTC time) of each dateline on the line, e.g. "Posted July. 18, 2002 22:21,"."""
    found = []
    for match in _DATELINE_ITEM.finditer(line):
        month_name = match["mname"]
        month = _MONTHS.get(month_name.lower()) if month_name else int(match["month"])
        if month is None:
            continue
        try:
            local = datetime(
                int(match["dyear"] or match["year"]), month, int(match["dday"] or match["day"]),
                int(match["hour"] or 0), int(match["minute"] or 0), tzinfo=timezone,
            )  # fmt: skip
        except ValueError:
            continue
        found.append((" ".join(match["kind"].lower().split()), local.astimezone(UTC)))
    return found


def _byline(line: str) -> tuple[list[str], list[str]] | None:
    """(names, e-mails) if the whole line is a byline or a list of reporter e-mails."""
    match = _BYLINE.fullmatch(line)
    if match is None:
        return None
    names = [name for name in (match["by"], match["prefixed"], match["named"]) if name]
    return names, re.findall(_EMAIL, match["emails"] or "")


def _looks_like_title(line: str) -> bool:
    return len(line) <= _TITLE_MAX_CHARS and not _SENTENCE_END.search(line)


def _is_fragment(line: str) -> bool:
    return (
        len(line) <= _FRAGMENT_CHARS
        and len(line.split()) <= _FRAGMENT_WORDS
        and not _SENTENCE_END.search(line)
    )


def _furniture_run(
    lines: list[str], kinds: list[Kind], where: set[Kind], span: range, *, beside: bool
) -> int:
    """How many lines of `span` (walked in its order) form a run of furniture.

    A run holds furniture of the kinds allowed `where` and short fragments; it counts only
    if it holds such a furniture line or comes right after furniture (`beside`), so a body
    that ends on a short line keeps it, while an unnamed button beside a byline goes with it.
    """
    length = 0
    for index in span:
        if kinds[index] not in where and not _is_fragment(lines[index]):
            break
        length += 1
    return length if beside or any(kinds[i] in where for i in span[:length]) else 0


def _keep_facts(page: Extracted, line: str, kind: Kind, timezone: ZoneInfo) -> None:
    if kind is Kind.DATELINE:
        for name, when in parse_datelines(line, timezone):
            if name in _PUBLISHED_KINDS:
                page.published_at = page.published_at or when
            else:
                page.updated_at = page.updated_at or when
    elif kind is Kind.SWITCHER:
        for name in re.findall(_EDITION, line, re.IGNORECASE):
            code = EDITIONS[name.lower()]
            if code not in page.editions:
                page.editions.append(code)
    elif kind is Kind.BYLINE:
        names, emails = _byline(line) or ([], [])
        page.authors.extend(name for name in names if name not in page.authors)
        page.author_emails.extend(email for email in emails if email not in page.author_emails)


def dump_lines(text: str) -> list[str]:
    """The page's non-blank lines, spacing folded (split() folds NBSP, tabs and CR too)."""
    lines = (" ".join(line.split()) for line in text.lstrip("\ufeff").splitlines())
    return [line for line in lines if line]


def clean_page_dump(
    text: str, timezone: ZoneInfo, site_furniture: frozenset[int] = frozenset()
) -> Extracted:
    """Remove a page dump's furniture (the lines its site repeats, then the rules'); keep its
    facts as fields."""
    lines = dump_lines(text)
    if len(lines) == 1:  # a sentence, a headline: no page around it, so nothing to remove
        return Extracted(paragraphs=lines)
    lines = without_furniture(lines, site_furniture)
    kinds = [classify(line) for line in lines]
    page = Extracted(paragraphs=[])

    start = 0
    while start < len(lines):
        if kinds[start] in _HEAD:
            _keep_facts(page, lines[start], kinds[start], timezone)
            start += 1
        elif page.title is None and kinds[start] is Kind.TEXT and _looks_like_title(lines[start]):
            page.title = lines[start]
            start += 1
        elif run := _furniture_run(
            lines,
            kinds,
            _HEAD,
            range(start, len(lines)),
            beside=start > 0 and kinds[start - 1] in _HEAD,
        ):
            for index in range(start, start + run):
                _keep_facts(page, lines[index], kinds[index], timezone)
            start += run
        else:
            break
    related = next((i for i in range(start, len(lines)) if kinds[i] is Kind.RELATED), None)
    end = len(lines) if related is None else related
    while run := _furniture_run(
        lines, kinds, _TAIL, range(end - 1, start - 1, -1), beside=end < len(lines)
    ):
        end -= run
    for index in range(end, len(lines)):  # a byline below a related block still counts
        _keep_facts(page, lines[index], kinds[index], timezone)
    page.paragraphs = [lines[i] for i in range(start, end) if kinds[i] not in _ANYWHERE]
    if page.title and not page.paragraphs:  # too short to split into title and body: body
        page.paragraphs, page.title = [page.title], None
    # A page that only says when it was updated was first published then, as far as it shows.
    page.published_at = page.published_at or page.updated_at
    page.authors = people(page.authors)
    return page
