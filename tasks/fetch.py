"""Fetch stage: find the inputs, read or download them, decode them into raw documents.

Sources are local files, directories (walked recursively) and globs; `http(s)://` URLs; text
files listing URLs; RSS, Atom and sitemap URLs (their links are fetched); WARC files. Page
dumps (`.txt`), HTML pages (`.html`, `.htm`), JSON Lines (`.jsonl`, one object a line with
`text` or `html`, optional `url` and `id`) and WARC response records are understood. Anything
that cannot be read, downloaded or decoded becomes a reject with its reason.

The readers live in `tasks.sources`, one module per kind of source; this module assembles a
batch from them, skips the documents the output already has, and defines the two Prefect tasks.
"""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from schemas.models import Batch, RawDocument, Reject, RejectReason, SourceBatch
from schemas.run import HttpOptions, Limits
from tasks.common import RETRY_OPTIONS, log_stage
from tasks.http import Failure, PageStore, is_url
from tasks.sources import Read, fetch_reject
from tasks.sources.files import FILE_KINDS, discover, read_file
from tasks.sources.web import Web, prefect_host_limits
from tasks.state import known_documents

# --- the batch -------------------------------------------------------------------------


def fetch_batch(
    batch: SourceBatch, web: Web, done: dict[str, Read]
) -> tuple[Batch[RawDocument], list[Failure]]:
    """Read every location not yet in `done` (which it fills in); returns the batch of what
    is done and the transient failures still to retry. A source seen twice is kept once."""
    urls = [loc for loc in batch.locations if loc not in done and is_url(loc)]
    for location in batch.locations:
        if location not in done and not is_url(location):
            done[location] = read_file(location, web.max_bytes)
    pending: list[Failure] = []
    for url, result in (web.fetch(urls) if urls else {}).items():
        if isinstance(result, Failure):
            pending.append(result)
        else:
            done[url] = result
    return _assemble(batch, done), pending


def _assemble(batch: SourceBatch, done: dict[str, Read]) -> Batch[RawDocument]:
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    for location in batch.locations:
        read, failed = done.get(location, ([], []))
        rejects.extend(failed)
        for document in read:
            if document.doc_id in seen:
                rejects.append(
                    fetch_reject(
                        document.source,
                        RejectReason.DUPLICATE_SOURCE,
                        "source appears more than once",
                    )
                )
            else:
                seen.add(document.doc_id)
                documents.append(document)
    return Batch[RawDocument](name=batch.name, documents=documents, rejects=rejects)


def drop_known(batch: Batch[RawDocument], known: dict[str, str]) -> Batch[RawDocument]:
    """Move the documents already in the output with the same content to `unchanged`."""
    fresh = [d for d in batch.documents if known.get(d.doc_id) != d.content_sha256]
    same = [d.source for d in batch.documents if known.get(d.doc_id) == d.content_sha256]
    return Batch[RawDocument](
        name=batch.name, documents=fresh, rejects=batch.rejects, unchanged=[*batch.unchanged, *same]
    )


def _gave_up(failure: Failure, attempts: int) -> Reject:
    return fetch_reject(
        failure.url, failure.reason, f"{failure.detail} (after {attempts} attempts)"
    )


# --- Prefect tasks ---------------------------------------------------------------------


class TransientFetchError(Exception):
    """Some URLs of the batch failed transiently: Prefect retries the task for them."""


class RetryState:
    """The locations each fetch task run has finished, kept across Prefect's retries of it.

    Prefect retries a task run within the same call, in the same process, so this state
    (one per process, keyed by task run id) carries what is done into the next attempt: a
    retry requests only the URLs that failed transiently. A run's entry goes when it returns.
    """

    def __init__(self) -> None:
        self._done_by_task_run: dict[UUID, dict[str, Read]] = {}

    def done(self, task_run: UUID) -> dict[str, Read]:
        """The run's finished locations, for `fetch_batch` to fill in."""
        return self._done_by_task_run.setdefault(task_run, {})

    def forget(self, task_run: UUID) -> None:
        self._done_by_task_run.pop(task_run, None)


_retry_state = RetryState()


def _web(http: HttpOptions, limits: Limits, allow_private_hosts: bool, output: Path) -> Web:
    return Web(
        http,
        limits.max_document_bytes,
        allow_private_hosts,
        PageStore(output / "_http"),
        output / "_downloads",
        prefect_host_limits(),
    )


@task(name="discover", task_run_name="discover {sources}", retries=2, retry_delay_seconds=1)
def discover_sources(
    sources: list[str],
    *,
    http: HttpOptions,
    limits: Limits,
    allow_private_hosts: bool,
    output: Path,
) -> list[str]:
    web = _web(http, limits, allow_private_hosts, output)
    locations, skipped = discover(sources, web.expand)
    logger = get_run_logger()
    logger.info("discovered %d inputs in %d sources", len(locations), len(sources))
    if skipped:
        logger.warning(
            "skipped %d files in the source directories whose extension is not one of %s: %s",
            len(skipped),
            ", ".join(FILE_KINDS),
            ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""),
        )
    return locations


@task(
    name="fetch",
    task_run_name="fetch {batch.name}",
    # Never cached: fetch reads the world, which changes; what it found decides the rest.
    cache_policy=NO_CACHE,
    **RETRY_OPTIONS,
)
def fetch_documents(
    batch: SourceBatch,
    *,
    http: HttpOptions,
    limits: Limits,
    allow_private_hosts: bool,
    output: Path,
) -> Batch[RawDocument]:
    context = TaskRunContext.get()
    assert context is not None and context.task_run is not None
    done = _retry_state.done(context.task_run.id)
    web = _web(http, limits, allow_private_hosts, output)
    fetched, pending = fetch_batch(batch, web, done)
    attempts = context.task_run.run_count
    if pending and attempts <= context.task.retries:
        wait = min(max(f.retry_after for f in pending), http.max_retry_after_seconds)
        time.sleep(wait)  # Retry-After, on top of the task's own backoff
        raise TransientFetchError(
            f"{len(pending)} URLs failed transiently, retrying them: "
            + "; ".join(f"{f.url}: {f.detail}" for f in pending[:5])
        )
    _retry_state.forget(context.task_run.id)
    fetched = Batch[RawDocument](
        name=fetched.name,
        documents=fetched.documents,
        rejects=[*fetched.rejects, *(_gave_up(f, attempts) for f in pending)],
    )
    known = known_documents(output, [document.doc_id for document in fetched.documents])
    fetched = drop_known(fetched, known)
    if fetched.unchanged:
        get_run_logger().info(
            "fetch %s: %d documents unchanged since an earlier run (%d by HTTP 304), skipped",
            batch.name,
            len(fetched.unchanged),
            len(web.unchanged),
        )
    log_stage("fetch", fetched)
    return fetched
