"""What cleaning finds in one page, whatever its format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    unreadable: tuple[str, str] | None = None  # (reason, detail) when the text cannot be read
