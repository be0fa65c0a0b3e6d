"""Fetch stage: find the input files, read and decode them into raw documents.

Local sources are files, directories (walked recursively) and glob patterns. Page dumps
(`.txt`), HTML pages (`.html`, `.htm`) and JSON Lines (`.jsonl`, one object a line with `text`
or `html`, optional `url` and `id`) are understood. Anything that cannot be read or decoded
becomes a reject with its reason; nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal, NamedTuple

from charset_normalizer import from_bytes
from prefect import get_run_logger, task

from schemas.models import Batch, RawDocument, Reject, SourceBatch, Stage
from tasks.common import STAGE_TASK_OPTIONS, doc_id_for, log_stage, stage_cache_key

CONTENT_TYPES: dict[str, Literal["text", "html", "jsonl"]] = {
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
}
_GLOB_CHARS = re.compile(r"[*?\[]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Share of control characters (other than tab and newlines) above which text is not text.
_MAX_CONTROL_SHARE = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FetchError(Exception):
    """An input that cannot become a raw document; `reason` is its reject code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class Discovered(NamedTuple):
    locations: list[str]
    skipped: list[str]  # files in directories with an extension docpipe does not read


def discover(sources: list[str]) -> Discovered:
    """Expand directories and globs into a sorted, de-duplicated list of file locations.

    Directories contribute the files with a known extension (hidden ones are not looked at;
    the others are listed as skipped); a file named explicitly is always kept, so an
    unsupported one is rejected rather than ignored. A source that matches nothing is kept
    as it is and rejected by `fetch` as `not_found`.
    """
    found: dict[str, None] = {}
    skipped: list[str] = []
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            matches = _walk(path)
            skipped.extend(str(m.absolute()) for m in matches if not _known(m))
            matches = [m for m in matches if _known(m)]
        elif not path.exists() and _GLOB_CHARS.search(source):
            matches = [Path(m) for m in sorted(glob.glob(str(path), recursive=True))]
            matches = [m for m in matches if m.is_file()] or [path]
        else:
            matches = [path]
        for match in matches:
            found.setdefault(str(match.absolute()), None)
    return Discovered(list(found), skipped)


def _known(path: Path) -> bool:
    return path.suffix.lower() in CONTENT_TYPES


def _walk(directory: Path) -> list[Path]:
    """Every non-hidden file below `directory`, in a stable order."""
    files: list[Path] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / name for name in sorted(names) if not name.startswith("."))
    return files


def decode(data: bytes, *, html: bool) -> str:
    """Decode bytes: a BOM, else strict UTF-8, else the page's declared charset, else detection."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(encoding, errors="strict"))
    if b"\x00" in data:
        raise FetchError("binary", "contains NUL bytes: not a text or HTML file")
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096]) if html else None
    if declared is not None:
        try:
            return _checked(data.decode(declared.group(1).decode("ascii"), errors="strict"))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration: detection below decides
    best = from_bytes(data).best()
    if best is None:
        raise FetchError("undecodable", "bytes match no known text encoding")
    return _checked(str(best))


def _checked(text: str) -> str:
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * max(len(text), 1):
        raise FetchError("binary", "mostly control characters: not a text or HTML file")
    return text


def _raw(
    source: str, content_type: Literal["text", "html"], content: str, data: bytes
) -> RawDocument:
    return RawDocument(
        doc_id=doc_id_for(source),
        source=source,
        content_sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        content=content,
    )


def _read_jsonl(path: Path, text: str) -> tuple[list[RawDocument], list[Reject]]:
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        line_source = f"{path.as_uri()}#L{number}"
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as error:
            rejects.append(_reject(line_source, "invalid_jsonl", f"line is not JSON: {error}"))
            continue
        body = record.get("html") or record.get("text") if isinstance(record, dict) else None
        if not isinstance(body, str) or not body.strip():
            rejects.append(
                _reject(line_source, "missing_text", "JSON object has no non-empty text or html")
            )
            continue
        source = str(
            record.get("url")
            or (f"{path.as_uri()}#{record['id']}" if "id" in record else line_source)
        )
        content_type: Literal["text", "html"] = "html" if record.get("html") else "text"
        documents.append(_raw(source, content_type, body, line.encode()))
    return documents, rejects


def _reject(source: str, reason: str, detail: str) -> Reject:
    return Reject(source=source, stage=Stage.FETCH, reason=reason, detail=detail)


def read_location(location: str) -> tuple[list[RawDocument], list[Reject]]:
    """Read one file into raw documents (several for JSON Lines) and rejects."""
    path = Path(location)
    source = path.as_uri()
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    try:
        if not path.exists():
            raise FetchError("not_found", f"no such file, directory or glob match: {location}")
        if content_type is None:
            known = ", ".join(sorted(CONTENT_TYPES))
            raise FetchError(
                "unsupported_type", f"{path.suffix or 'no extension'} is not one of {known}"
            )
        try:
            data = path.read_bytes()
        except OSError as error:
            raise FetchError(
                "unreadable", f"cannot read file: {error.strerror or error}"
            ) from error
        if not data.strip():
            raise FetchError("empty", "file is empty")
        text = decode(data, html=content_type == "html")
    except FetchError as error:
        return [], [_reject(source, error.reason, error.detail)]
    if content_type == "jsonl":
        return _read_jsonl(path, text)
    return [_raw(source, content_type, text, data)], []


def fetch_batch(batch: SourceBatch) -> Batch[RawDocument]:
    """Read every location of the batch; a source seen twice is kept once and the copy rejected."""
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    for location in batch.locations:
        read, failed = read_location(location)
        rejects.extend(failed)
        for document in read:
            if document.doc_id in seen:
                rejects.append(
                    _reject(document.source, "duplicate_source", "source appears more than once")
                )
            else:
                seen.add(document.doc_id)
                documents.append(document)
    return Batch[RawDocument](name=batch.name, documents=documents, rejects=rejects)


def _file_fingerprints(parameters: dict[str, Any]) -> list[tuple[str, int, int] | str]:
    """Size and modification time of each file: a changed file misses the cache."""
    fingerprints: list[tuple[str, int, int] | str] = []
    for location in parameters["batch"].locations:
        try:
            stat = os.stat(location)
        except OSError:
            fingerprints.append(location)
        else:
            fingerprints.append((location, stat.st_size, stat.st_mtime_ns))
    return fingerprints


@task(
    name="discover",
    task_run_name="discover {sources}",
    retries=2,
    retry_delay_seconds=1,
)
def discover_sources(sources: list[str]) -> list[str]:
    locations, skipped = discover(sources)
    logger = get_run_logger()
    logger.info("discovered %d input files in %d sources", len(locations), len(sources))
    if skipped:
        logger.warning(
            "skipped %d files in the source directories whose extension is not one of %s: %s",
            len(skipped),
            ", ".join(sorted(CONTENT_TYPES)),
            ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""),
        )
    return locations


@task(
    name="fetch",
    task_run_name="fetch {batch.name}",
    cache_key_fn=stage_cache_key(extra=_file_fingerprints),
    **STAGE_TASK_OPTIONS,
)
def fetch_documents(batch: SourceBatch) -> Batch[RawDocument]:
    fetched = fetch_batch(batch)
    log_stage("fetch", None, fetched)
    return fetched
