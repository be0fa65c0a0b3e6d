"""Clean stage: strip page furniture from the body and keep the facts it carries as fields.

Page dumps go through `tasks.clean_dump` (whole-line patterns), HTML pages through
`tasks.clean_html` (trafilatura and what measurably improves on it).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from prefect import task

from schemas.models import Batch, CleanDocument, RawDocument, Reject, Stage
from tasks.clean_dump import clean_page_dump
from tasks.clean_html import extract_html
from tasks.common import STAGE_TASK_OPTIONS, log_stage, stage_cache_key


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
    cache_key_fn=stage_cache_key(),
    **STAGE_TASK_OPTIONS,
)
def clean_documents(batch: Batch[RawDocument], timezone: str) -> Batch[CleanDocument]:
    cleaned = clean_batch(batch, timezone)
    log_stage("clean", cleaned)
    return cleaned
