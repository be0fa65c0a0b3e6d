"""Local inputs: which files a source names (directories, globs, URL lists) and reading one.

Page dumps (`.txt`), HTML pages (`.html`, `.htm`), JSON Lines (`.jsonl`) and WARC files are
understood, the first three also gzipped; anything else named explicitly is rejected, saying
why, rather than ignored.
"""

from __future__ import annotations

import glob
import gzip
import io
import os
import re
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NamedTuple

from schemas.models import RejectReason
from tasks.http import is_url
from tasks.sources import FetchError, Read, fetch_reject, raw_document
from tasks.sources.decode import decode
from tasks.sources.jsonl import read_jsonl
from tasks.sources.warc import read_warc

FileKind = Literal["text", "html", "jsonl", "warc"]
FILE_KINDS: dict[str, FileKind] = {
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".warc": "warc",
    ".warc.gz": "warc",
    # gzipped pages and JSON Lines, decompressed up to the per-document limit
    ".txt.gz": "text",
    ".html.gz": "html",
    ".htm.gz": "html",
    ".jsonl.gz": "jsonl",
}
_GLOB_CHARS = re.compile(r"[*?\[]")


def file_kind(path: Path) -> FileKind | None:
    name = path.name.lower()
    return next((kind for suffix, kind in FILE_KINDS.items() if name.endswith(suffix)), None)


class Discovered(NamedTuple):
    locations: list[str]
    skipped: list[str]  # files in directories with an extension docpipe does not read


def discover(sources: list[str], expand_url: Callable[[str], list[str]]) -> Discovered:
    """Expand sources into a de-duplicated list of locations (file paths and URLs).

    Directories contribute the files with a known extension (hidden ones are not looked at;
    the others are listed as skipped); a file named explicitly is always kept, so an
    unsupported one is rejected rather than ignored; a file whose lines are all URLs is a URL
    list; a URL goes through `expand_url` (feeds and sitemaps become their links). A source
    that matches nothing is kept as it is and rejected by `fetch` as `not_found`.
    """
    found: dict[str, None] = {}
    skipped: list[str] = []
    for source in sources:
        path = Path(source).expanduser()
        matches: list[str]
        if is_url(source):
            matches = expand_url(source)
        elif path.is_dir():
            files, unlisted = _walk(path)
            skipped.extend(str(f.absolute()) for f in files if file_kind(f) is None)
            matches = [str(f.absolute()) for f in files if file_kind(f) is not None]
            matches += [str(d.absolute()) for d in unlisted]  # fetch rejects them, with why
        elif not path.exists() and _GLOB_CHARS.search(source):
            globbed = [Path(m) for m in sorted(glob.glob(str(path), recursive=True))]
            matches = [str(m.absolute()) for m in globbed if m.is_file()] or [str(path)]
        else:
            matches = read_url_list(path) or [str(path.absolute())]
        found.update(dict.fromkeys(matches))
    return Discovered(list(found), skipped)


def _walk(directory: Path) -> tuple[list[Path], list[Path]]:
    """Every non-hidden file below `directory`, in a stable order, and the directories that
    could not be listed (os.walk would pass over them in silence)."""
    files: list[Path] = []
    unlisted: list[Path] = []
    for root, dirs, names in os.walk(
        directory, onerror=lambda e: unlisted.append(Path(e.filename))
    ):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / name for name in sorted(names) if not name.startswith("."))
    return files, unlisted


def read_url_list(path: Path) -> list[str]:
    """The URLs of a text file holding one URL a line (`#` comments), else []."""
    if not path.is_file() or file_kind(path) != "text":
        return []
    try:
        with path.open(encoding="utf-8") as lines:
            head = [line.strip() for _, line in zip(range(50), lines, strict=False)]
            rest = [line.strip() for line in lines] if head else []
    except (OSError, UnicodeDecodeError):
        return []  # fetch reads it as a page and says what is wrong
    entries = [line for line in head + rest if line and not line.startswith("#")]
    return entries if entries and all(is_url(e) and " " not in e for e in entries) else []


def read_file(location: str, max_bytes: int) -> Read:
    """Read one file into raw documents (several for JSON Lines and WARC) and rejects."""
    path = Path(location)
    source = path.as_uri()
    kind = file_kind(path)
    try:
        _check_regular_file(path)
        if kind is None:
            known = ", ".join(FILE_KINDS)
            raise FetchError(RejectReason.UNSUPPORTED_TYPE, f"{path.name} is not one of {known}")
        if kind == "warc":
            with path.open("rb") as stream:  # warcio inflates WARC.gz itself
                return read_warc(stream, source, max_bytes)
        if kind == "jsonl":
            with _open(path) as stream:
                return read_jsonl(stream, source, max_bytes)
        data = _read_capped(path, max_bytes)
        if not data.strip():
            raise FetchError(RejectReason.EMPTY, "file is empty")
        return [raw_document(source, kind, decode(data, html=kind == "html"), data)], []
    except FetchError as error:
        return [], [fetch_reject(source, error.reason, error.detail)]
    except (OSError, EOFError, zlib.error) as error:  # a damaged archive or compressed file
        detail = f"{type(error).__name__}: {error}"
        return [], [fetch_reject(source, RejectReason.UNREADABLE, detail)]


def _check_regular_file(path: Path) -> None:
    """Refuse what is not a readable regular file, saying why (not found, a broken or
    looping link, a directory that cannot be listed, a device or pipe)."""
    try:
        info = path.stat()
    except FileNotFoundError as error:
        if path.is_symlink():
            raise FetchError(
                RejectReason.NOT_FOUND, f"broken symbolic link to {os.readlink(path)}"
            ) from error
        raise FetchError(
            RejectReason.NOT_FOUND, f"no such file, directory or glob match: {path}"
        ) from error
    except OSError as error:  # ELOOP: a symbolic link loop; EACCES: a directory on the way
        raise FetchError(
            RejectReason.UNREADABLE, f"cannot read file: {error.strerror or error}"
        ) from error
    if stat.S_ISDIR(info.st_mode):
        try:
            os.listdir(path)
        except OSError as error:
            detail = f"cannot list directory: {error.strerror or error}"
            raise FetchError(RejectReason.UNREADABLE, detail) from error
        raise FetchError(RejectReason.UNSUPPORTED_TYPE, "a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FetchError(
            RejectReason.UNSUPPORTED_TYPE, "not a regular file (a device, pipe or socket)"
        )


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed on the fly if it is gzipped."""
    return gzip.open(path) if _gzipped(path) else path.open("rb")


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, decompressed if it is gzipped, refusing more than `max_bytes`: a
    gzip bomb stops at the cap instead of filling memory."""
    with _open(path) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        what = "decompresses to" if _gzipped(path) else "is"
        detail = f"{path.name} {what} more than {max_bytes} bytes (the per-document limit)"
        raise FetchError(RejectReason.TOO_LARGE, detail)
    return data
