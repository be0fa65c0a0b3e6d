"""Clean stage: strip page furniture from the body and keep the facts it carries as fields.

Page dumps go through `tasks.clean_dump` (whole-line patterns), HTML pages through
`tasks.clean_html`; before the one and after the other, the text each site repeats on many
pages goes too (`tasks.site_furniture`, learned from this batch and the output's memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import task

from schemas.models import Batch, CleanDocument, RawDocument, Reject, RejectReason, Stage
from schemas.run import Limits
from tasks.clean_dump import clean_page_dump, dump_lines
from tasks.clean_html import extract_html
from tasks.common import STAGE_TASK_OPTIONS, content_hash, log_stage, stage_cache_key, timed_out
from tasks.page import Extracted
from tasks.pool import TimedOut, in_processes
from tasks.site_furniture import (
    Pages,
    fingerprints,
    read_memory,
    site_furniture,
    site_of,
    site_pages,
    without_furniture,
)

# A raw page and the furniture its site is known to repeat.
_Work = tuple[RawDocument, frozenset[int]]


def clean_pages(timezone: str, work: list[_Work]) -> list[Extracted]:
    """The body and facts of each page (runs in a worker process)."""
    zone = ZoneInfo(timezone)
    return [
        extract_html(raw.content, raw.source, zone)
        if raw.content_type == "html"
        else clean_page_dump(raw.content, zone, furniture)
        for raw, furniture in work
    ]


def clean_batch(
    batch: Batch[RawDocument],
    timezone: str,
    processes: int = 0,
    timeout: float = Limits().stage_timeout_seconds,
    memory: Mapping[str, Pages] | None = None,
) -> Batch[CleanDocument]:
    """Clean every document; one left with no body becomes an `empty_after_cleaning` reject
    (or says why its text could not be read), one that takes longer than `timeout` seconds
    alone a `timeout` reject. `memory`: the pages earlier runs saw of the batch's sites.

    A page dump's lines are compared across the site's pages before the rules read them (a
    repeated line above the title must not become the title); an HTML page's blocks after
    extraction. The batch's `site_pages` say what this batch adds to the memory.
    """
    memory = memory or {}
    site = {raw.doc_id: site_of(raw.source) for raw in batch.documents}
    seen: dict[str, dict[str, frozenset[int]]] = {}  # site -> doc_id -> unit fingerprints
    for raw in batch.documents:
        if raw.content_type == "text":
            seen.setdefault(site[raw.doc_id], {})[raw.doc_id] = fingerprints(
                dump_lines(raw.content)
            )
    furniture = site_furniture(seen, memory)
    # (HTML pages are compared after extraction: clean_pages reads this for page dumps only.)
    work = [(raw, furniture.get(site[raw.doc_id], frozenset())) for raw in batch.documents]
    pages = in_processes(partial(clean_pages, timezone), work, processes, timeout)
    for raw, page in zip(batch.documents, pages, strict=True):
        if raw.content_type == "html" and isinstance(page, Extracted):
            seen.setdefault(site[raw.doc_id], {})[raw.doc_id] = fingerprints(page.paragraphs)
    furniture = site_furniture(seen, memory)

    documents: list[CleanDocument] = []
    rejects: list[Reject] = []
    for raw, page in zip(batch.documents, pages, strict=True):
        if isinstance(page, TimedOut):
            rejects.append(timed_out(raw.source, Stage.CLEAN, timeout))
            continue
        if raw.content_type == "html":
            page.paragraphs = without_furniture(page.paragraphs, furniture[site[raw.doc_id]])
        if not page.paragraphs:
            reason, detail = page.unreadable or (
                RejectReason.EMPTY_AFTER_CLEANING,
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
                declared_language=page.declared_language or raw.declared_language,
                text="\n\n".join(page.paragraphs),
            )
        )
    return Batch[CleanDocument](
        name=batch.name, documents=documents, rejects=rejects, site_pages=site_pages(seen)
    )


def _memory_of_batch(parameters: dict[str, Any]) -> str:
    """What the site memory holds for the batch's sites, its own pages aside: a cached
    result is reused only while the memory would teach the same."""
    batch: Batch[RawDocument] = parameters["batch"]
    own = {raw.doc_id for raw in batch.documents}
    memory = read_memory(parameters["output"], {site_of(raw.source) for raw in batch.documents})
    return content_hash(
        {site: sorted((d, sorted(u)) for d, u in pages.items() if d not in own)
         for site, pages in memory.items()}
    )  # fmt: skip


@task(
    name="clean",
    task_run_name="clean {batch.name}",
    cache_key_fn=stage_cache_key(extra=_memory_of_batch, ignore=("processes", "output")),
    **STAGE_TASK_OPTIONS,
)
def clean_documents(
    batch: Batch[RawDocument], timezone: str, processes: int, timeout: float, output: Path
) -> Batch[CleanDocument]:
    memory = read_memory(output, {site_of(raw.source) for raw in batch.documents})
    cleaned = clean_batch(batch, timezone, processes, timeout, memory)
    log_stage("clean", cleaned)
    return cleaned
