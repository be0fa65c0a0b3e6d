"""Clean stage: strip page furniture from the body and keep the facts it carries as fields.

Page dumps go through `tasks.clean_dump` (whole-line patterns), HTML pages through
`tasks.clean_html` (trafilatura and what measurably improves on it).
"""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from prefect import task

from schemas.models import Batch, CleanDocument, Limits, RawDocument, Reject, Stage
from tasks.clean_dump import clean_page_dump
from tasks.clean_html import extract_html
from tasks.common import (
    STAGE_TASK_OPTIONS,
    TimedOut,
    in_processes,
    log_stage,
    stage_cache_key,
    timed_out,
)
from tasks.page import Extracted


def clean_pages(timezone: str, raws: list[RawDocument]) -> list[Extracted]:
    """The body and facts of each page (runs in a worker process)."""
    zone = ZoneInfo(timezone)
    return [
        extract_html(raw.content, raw.source, zone)
        if raw.content_type == "html"
        else clean_page_dump(raw.content, zone)
        for raw in raws
    ]


def clean_batch(
    batch: Batch[RawDocument],
    timezone: str,
    processes: int = 0,
    timeout: float = Limits().stage_timeout_seconds,
) -> Batch[CleanDocument]:
    """Clean every document; one left with no body becomes an `empty_after_cleaning` reject
    (or says why its text could not be read), one that takes longer than `timeout` seconds
    alone a `timeout` reject."""
    documents: list[CleanDocument] = []
    rejects: list[Reject] = []
    pages = in_processes(partial(clean_pages, timezone), batch.documents, processes, timeout)
    for raw, page in zip(batch.documents, pages, strict=True):
        if isinstance(page, TimedOut):
            rejects.append(timed_out(raw.source, Stage.CLEAN, timeout))
            continue
        if not page.paragraphs:
            reason, detail = page.unreadable or (
                "empty_after_cleaning",
                "no body text left once page furniture was removed",
            )
            rejects.append(
                Reject(source=raw.source, stage=Stage.CLEAN, reason=reason, detail=detail)
            )
            continue
        documents.append(
            CleanDocument(
                doc_id=raw.doc_id,
                source=raw.source,
                content_sha256=raw.content_sha256,
                title=page.title,
                published_at=page.published_at,
                updated_at=page.updated_at,
                authors=page.authors,
                author_emails=page.author_emails,
                editions=page.editions,
                text="\n\n".join(page.paragraphs),
            )
        )
    return Batch[CleanDocument](name=batch.name, documents=documents, rejects=rejects)


@task(
    name="clean",
    task_run_name="clean {batch.name}",
    cache_key_fn=stage_cache_key(ignore=("processes",)),
    **STAGE_TASK_OPTIONS,
)
def clean_documents(
    batch: Batch[RawDocument], timezone: str, processes: int, timeout: float
) -> Batch[CleanDocument]:
    cleaned = clean_batch(batch, timezone, processes, timeout)
    log_stage("clean", cleaned)
    return cleaned
