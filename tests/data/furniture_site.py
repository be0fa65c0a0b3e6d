"""A made-up site whose furniture no cleaning rule names: 20+ page dumps and HTML pages.

Every text here was written for docpipe's tests. The furniture lines repeat on every page;
two articles quote the same sentence, which must stay in both.
"""

from __future__ import annotations

HOST = "harbourtown-gazette.example"
FURNITURE_LINES = [
    "Harbourtown Gazette",
    "Newsletters | Puzzles | Obituaries | Tide tables",
    "독자 의견 보내기 · 전체 메뉴",
    "Most read this week",
    "Council tax explained: what you pay and why",
    "Have a story? Call the newsdesk on 01234 567890.",
]
FURNITURE_BLOCK = (
    "Support local journalism: become a Gazette member today and get the weekly harbour "
    "briefing in your inbox every Friday morning."
)
QUOTE = "The harbour master said the pier would be rebuilt before the winter storms arrive."
QUOTED_BY = (3, 7)
_PLACES = ["quay", "lighthouse", "ferry terminal", "fish market", "marina", "boatyard"]


def title(number: int) -> str:
    return f"Harbour story number {number} makes the front page"


def body(number: int) -> list[str]:
    place = _PLACES[number % len(_PLACES)]
    sentences = [
        f"Residents gathered at the {place} on day {number} to hear the plans for the coast.",
        f"Officials counted {number * 17 + 3} visitors and said a decision was due in week "
        f"{number + 2}.",
    ]
    if number in QUOTED_BY:
        sentences.append(QUOTE)
    return sentences


def page_dump(number: int) -> str:
    """A page saved as text: site furniture above the title and below the body."""
    head, tail = FURNITURE_LINES[:3], FURNITURE_LINES[3:]
    return "\n\n".join([*head, title(number), *body(number), *tail]) + "\n"


def html_page(number: int) -> str:
    """An HTML article whose container holds the site's membership appeal."""
    paragraphs = "".join(f"<p>{sentence}</p>" for sentence in body(number))
    return (
        f"<html><head><title>{title(number)}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article>"
        f"<h1>{title(number)}</h1>{paragraphs}<p>{FURNITURE_BLOCK}</p></article>"
        "<footer>Harbourtown Gazette</footer></body></html>"
    )
