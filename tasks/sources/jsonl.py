"""JSON Lines: one document a line, read line by line so that a huge file costs one line."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal

from schemas.models import RawDocument, Reject, RejectReason
from tasks.sources import FetchError, Read, fetch_reject, raw_document


def read_jsonl(stream: io.BufferedIOBase, uri: str, max_bytes: int) -> Read:
    """One document per line holding a JSON object with `text` or `html` (and optionally
    `url` or `id`, which name its source); every other non-blank line is a reject."""
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    for number, raw_line in enumerate(_lines(stream.readline, max_bytes), start=1):
        line_source = f"{uri}#L{number}"
        if raw_line is None:
            detail = f"line is longer than {max_bytes} bytes (the per-document limit)"
            rejects.append(fetch_reject(line_source, RejectReason.TOO_LARGE, detail))
            continue
        if number == 1:
            raw_line = raw_line.removeprefix(codecs.BOM_UTF8)
        if not raw_line.strip():
            continue
        try:
            record: Any = json.loads(raw_line)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            rejects.append(
                fetch_reject(line_source, RejectReason.INVALID_JSONL, f"line is not JSON: {error}")
            )
            continue
        body = record.get("html") or record.get("text") if isinstance(record, dict) else None
        if not isinstance(body, str) or not body.strip():
            detail = "JSON object has no non-empty text or html"
            rejects.append(fetch_reject(line_source, RejectReason.MISSING_TEXT, detail))
            continue
        source = str(
            record.get("url") or (f"{uri}#{record['id']}" if "id" in record else line_source)
        )
        content_type: Literal["text", "html"] = "html" if record.get("html") else "text"
        documents.append(raw_document(source, content_type, body, raw_line))
    if not documents and not rejects:
        raise FetchError(RejectReason.EMPTY, "file has no lines")
    return documents, rejects


def _lines(readline: Callable[[int], bytes], max_bytes: int) -> Iterator[bytes | None]:
    """A stream's lines; None for a line over `max_bytes` (skipped without holding it)."""
    while True:
        line = readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = readline(max_bytes + 1)
            yield None
            continue
        yield line
