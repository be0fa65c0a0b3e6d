"""WARC (and WARC.gz) files: their HTML response records, as Common Crawl publishes them."""

from __future__ import annotations

import io
import re

from warcio.archiveiterator import ArchiveIterator

from schemas.models import RawDocument, Reject, RejectReason
from tasks.http import HTML_TYPES
from tasks.sources import FetchError, Read, fetch_reject, raw_document
from tasks.sources.decode import decode


def read_warc(stream: io.BufferedIOBase, uri: str, max_bytes: int) -> Read:
    """The HTML response records, each named by its target URI; other records are rejects."""
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    for record in ArchiveIterator(stream):
        if record.rec_type != "response" or record.http_headers is None:
            continue
        source = record.rec_headers.get_header("WARC-Target-URI") or uri
        content_type = record.http_headers.get_header("Content-Type") or ""
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in HTML_TYPES:
            rejects.append(
                fetch_reject(source, RejectReason.UNSUPPORTED_CONTENT_TYPE, media_type or "none")
            )
            continue
        body = record.content_stream().read(max_bytes + 1)
        if len(body) > max_bytes:
            rejects.append(
                fetch_reject(source, RejectReason.TOO_LARGE, f"record exceeds {max_bytes} bytes")
            )
            continue
        charset = re.search(r"charset=([\w.:-]+)", content_type)
        try:
            text = decode(body, html=True, declared=charset.group(1) if charset else None)
        except FetchError as error:
            rejects.append(fetch_reject(source, error.reason, error.detail))
            continue
        language = record.http_headers.get_header("Content-Language")
        documents.append(raw_document(source, "html", text, body, language))
    return documents, rejects
