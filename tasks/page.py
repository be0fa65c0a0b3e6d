"""What cleaning finds in one page, whatever its format, and the rules both formats share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

# Words that make a byline part a job title or a desk, not a person: "Environment
# Correspondent", "Staff Reporter", "Business Desk", "기자", "記者", "编辑".
ROLE_WORDS = (
    r"Reporters?|Correspondents?|Writers?|Editors?|Columnists?|Contributors?|Producers?"
    r"|Photographers?|Journalists?|Analysts?|Staff|Desk|Bureau|Newsroom|Team|Chief"
)
CJK_ROLES = r"기자|특파원|논설위원|편집|記者|特派員|編集|记者|特派员|编辑|通讯员"
_ROLE = re.compile(rf"\b(?:{ROLE_WORDS})\b|{CJK_ROLES}", re.IGNORECASE)


def people(names: list[str]) -> list[str]:
    """The names that are people: job titles and desks dropped, duplicates once."""
    found: list[str] = []
    for name in (" ".join(n.split()) for n in names):
        if name and not _ROLE.search(name) and name not in found:
            found.append(name)
    return found


@dataclass
class Extracted:
    """What cleaning found in one page."""

    paragraphs: list[str]
    title: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    author_emails: list[str] = field(default_factory=list)
    editions: list[str] = field(default_factory=list)  # ISO 639-1 codes of other editions
    declared_language: str | None = None  # the language tag the page declares, as written
    unreadable: tuple[str, str] | None = None  # (reason, detail) when the text cannot be read
