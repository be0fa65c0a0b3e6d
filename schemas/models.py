"""Pydantic models of a document as it moves through the stages, and of what it becomes.

These models are the single source of truth for every column: the Arrow schemas of the
Parquet outputs are derived from them in `schemas.arrow`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Record(BaseModel):
    """Base of every model: frozen and strict about unknown fields, so typos fail loudly."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Stage(StrEnum):
    FETCH = "fetch"
    CLEAN = "clean"
    LANGUAGE = "language"
    ENTITIES = "entities"
    EXPORT = "export"


class LanguageMethod(StrEnum):
    """How a document's language was found: the `language_method` column."""

    SCRIPT = "script"  # the writing system settles it (Hangul, kana, Greek, ...)
    LANGDETECT = "langdetect"  # a text long enough for langdetect to be sure
    VOTE = "vote"  # a short or unsure text: langdetect and lingua voted
    HINT = "hint"  # the language the page declares decided between the text's candidates
    NONE = "none"  # too few letters to judge: the language is `und`


class RejectReason(StrEnum):
    """Why an input did not become a document: the `reason` column of `OUT/rejects/`.

    Web responses with an error status are `http_<status>` (`RejectReason.http(404)`), the one
    family of reasons not listed here one by one.
    """

    # fetch: files and records
    NOT_FOUND = "not_found"
    UNSUPPORTED_TYPE = "unsupported_type"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    INVALID_JSONL = "invalid_jsonl"
    MISSING_TEXT = "missing_text"
    DUPLICATE_SOURCE = "duplicate_source"
    # fetch: the web
    INVALID_URL = "invalid_url"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    DNS_ERROR = "dns_error"
    PRIVATE_ADDRESS = "private_address"
    CONNECTION_ERROR = "connection_error"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BAD_REDIRECT = "bad_redirect"
    UNEXPECTED_304 = "unexpected_304"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    # clean
    EMPTY_AFTER_CLEANING = "empty_after_cleaning"
    TOO_DEEPLY_NESTED = "too_deeply_nested"
    # any stage (and web requests that time out)
    TIMEOUT = "timeout"

    @staticmethod
    def http(status: int) -> str:
        return f"http_{status}"


class Reject(Record):
    """An input that could not become a document, and why (one row of `OUT/rejects/`)."""

    source: str
    stage: str
    reason: str = Field(description="a `RejectReason`, or `http_<status>`")
    detail: str = Field(description="readable message for a person")


class EntityKind(StrEnum):
    """Names (people, organisations, places, ...) or values (dates, numbers, amounts)."""

    NAME = "name"
    VALUE = "value"


class Entity(Record):
    """A named-entity mention; `start`/`end` are character offsets into the clean text."""

    text: str
    label: str = Field(description="the label of the name in this document (one per name)")
    start: int
    end: int
    canonical: str = Field(description="the full name the mention stands for in its document")
    kind: str = Field(description="an `EntityKind`: `name` or `value`")


class SourceDocument(Record):
    """Identity shared by every stage of a document."""

    doc_id: str = Field(description="stable id: sha256 of the source URI, 16 hex digits")
    source: str = Field(description="URI the document came from")
    content_sha256: str = Field(description="sha256 of the raw bytes as fetched")


class RawDocument(SourceDocument):
    """A fetched, decoded document before cleaning."""

    content_type: Literal["text", "html"]
    content: str
    declared_language: str | None = Field(
        default=None, description="the response's Content-Language header"
    )


class CleanDocument(SourceDocument):
    """The article body with page furniture removed and its facts kept as fields."""

    title: str | None
    published_at: AwareDatetime | None = Field(description="UTC")
    updated_at: AwareDatetime | None = Field(description="UTC, from an 'Updated ...' dateline")
    authors: list[str]
    author_emails: list[str]
    editions: list[str] = Field(description="ISO 639-1 codes of the page's other editions")
    declared_language: str | None = Field(
        description="language tag the page declares (HTML lang, og:locale, Content-Language)"
    )
    text: str = Field(description="clean body, paragraphs separated by a blank line")


class DetectedDocument(CleanDocument):
    language: str = Field(description="ISO 639-1 code, or `und` when too short to judge")
    language_score: float = Field(ge=0, le=1, description="probability of `language`")
    language_method: str = Field(description="a `LanguageMethod`: how the language was found")


class Document(DetectedDocument):
    """The final document: one row of `OUT/documents/`."""

    entities: list[Entity]
    ner_model: str | None = Field(
        description="spaCy package that found the entities; null: no model for the language"
    )
    processed_at: AwareDatetime
    pipeline_version: str


class EntityMention(Record):
    """One row of `OUT/entities/`: an entity mention with its document's id and language."""

    doc_id: str
    text: str
    label: str
    start: int
    end: int
    canonical: str
    kind: str
    language: str


class EntityIndexRow(Record):
    """One row of `OUT/entity_index/`: a named entity across the output."""

    canonical: str
    label: str
    language: str
    documents: int = Field(description="documents that mention it")
    mentions: int = Field(description="its mentions in them")
    first_published_at: AwareDatetime | None = Field(description="earliest dated document")
    last_published_at: AwareDatetime | None = Field(description="latest dated document")


class SitePage(Record):
    """What the site-furniture memory keeps of one page (a row of `OUT/_state/sites/`)."""

    site: str = Field(description="host of a web page, folder of a file")
    doc_id: str
    units: list[int] = Field(description="fingerprints of the page's lines or text blocks")


DocumentT = TypeVar("DocumentT", bound=SourceDocument)


class Batch(Record, Generic[DocumentT]):
    """A stage's output for one batch: the documents that go on and those it rejected."""

    name: str = Field(description="readable label used in task run names, e.g. `batch-0003`")
    documents: list[DocumentT]
    rejects: list[Reject]
    unchanged: list[str] = Field(
        default_factory=list, description="sources already in the output with this content"
    )
    site_pages: list[SitePage] = Field(
        default_factory=list, description="pages the clean stage saw, for the site memory"
    )


class SourceBatch(Record):
    """The input locations one fetch task reads."""

    name: str
    locations: list[str]


__all__ = [
    "Batch",
    "CleanDocument",
    "DetectedDocument",
    "Document",
    "Entity",
    "EntityIndexRow",
    "EntityKind",
    "EntityMention",
    "LanguageMethod",
    "RawDocument",
    "Reject",
    "RejectReason",
    "SitePage",
    "SourceBatch",
    "SourceDocument",
    "Stage",
]
