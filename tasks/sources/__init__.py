"""Sources of the fetch stage: one module per kind of input, each turning it into raw documents.

`files` finds and reads local inputs (directories, globs, URL lists, gzipped files), `jsonl`
and `warc` read the files that hold many documents, `decode` turns bytes into text, `feeds`
reads the links of feeds and sitemaps and `web` downloads pages. Every reader answers with
documents and rejects (`Read`), so that one bad input never stops the others.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from schemas.models import RawDocument, Reject, Stage
from tasks.common import doc_id_for

Read = tuple[list[RawDocument], list[Reject]]


class FetchError(Exception):
    """An input that cannot become a raw document; `reason` is its reject code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def raw_document(
    source: str,
    content_type: Literal["text", "html"],
    content: str,
    data: bytes,
    declared_language: str | None = None,
) -> RawDocument:
    """A document read from `source`; its hash is of the bytes, so a re-encoding is a change.
    `declared_language`: the Content-Language header it came with."""
    return RawDocument(
        doc_id=doc_id_for(source),
        source=source,
        content_sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        content=content,
        declared_language=declared_language,
    )


def fetch_reject(source: str, reason: str, detail: str) -> Reject:
    """A reject of the fetch stage."""
    return Reject(source=source, stage=Stage.FETCH, reason=reason, detail=detail)
