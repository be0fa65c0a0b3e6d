"""Bad input never crashes a run and never passes silently: one flow run over a directory of
bad inputs, then one row of the table per input, each with its outcome and reason code."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from schemas.run import Limits
from tasks.sources.files import discover, read_file
from tests.flows.runs import rows, run

ENGLISH = "The harbour in Busan reopened on Monday after two years of repairs, officials said."
FURNITURE = (
    "Go to contents\n\nPosted July. 18, 2002 22:21,\u00a0\u00a0\u00a0\n\n한국어\n\nkim@donga.com\n"
)
KOREAN = (
    "부산항이 2년간의 보수 공사를 마치고 월요일에 다시 문을 열었다고 관계자들이 밝혔다. "
    "항만 당국은 컨테이너 물동량이 곧 예년 수준을 회복할 것으로 기대한다고 말했다.\n"
)
MAX_BYTES = Limits().max_document_bytes
SPACY_MAX_LENGTH = 1_000_000  # en_core_web_sm's nlp.max_length
LAST_PARAGRAPH = "Angela Merkel visited Ulaanbaatar on Friday."


def nested(depth: int) -> bytes:
    return f"<html><body>{'<div>' * depth}<p>{ENGLISH}</p>{'</div>' * depth}</body></html>".encode()


def gzip_bomb() -> bytes:
    """A gigabyte of spaces in a megabyte: a thousand gzip members of a megabyte each."""
    return gzip.compress(b" " * 1_000_000, compresslevel=9) * 1000


def longer_than_spacy() -> bytes:
    paragraph = f"Title of a very long report\n\n{ENGLISH}\n\n"
    body = paragraph + (ENGLISH + " ") * (SPACY_MAX_LENGTH // len(ENGLISH) + 50)
    return (body + "\n\n" + LAST_PARAGRAPH + "\n").encode()


@dataclass(frozen=True)
class Case:
    """One input file, and what the run must make of it."""

    name: str
    content: Callable[[], bytes] | None  # None: made by `make` (links)
    outcome: str  # "document", or the reject's reason code
    detail: str = ""  # in the reject's detail, or in the document's text
    check: Callable[[dict[str, Any]], bool] = lambda row: True
    source_suffix: str = ""  # JSON Lines rows are named by line


CASES = [
    Case("empty.txt", lambda: b"", "empty", "file is empty"),
    Case("binary.txt", lambda: bytes(range(256)) * 64, "binary", "not a text or HTML file"),
    Case(
        "invalid-utf8.txt",
        lambda: (ENGLISH + "\n\n").encode() * 3 + b"Officials said \xff\xfe it was done.\n",
        "document",
        "Officials said",
    ),
    Case(
        "mixed-encodings.txt",
        lambda: (
            "Café prices rose “sharply” in Paris.\n\n".encode() * 3
            + "Naïve résumé of the café owners in Lyon.\n".encode("cp1252")
        ),
        "document",
        "Naïve résumé of the café owners",
        lambda row: "“sharply”" in row["text"],
    ),
    Case(
        "fifty-megabytes.txt",
        lambda: (ENGLISH + "\n").encode() * 600_000,
        "too_large",
        f"is more than {MAX_BYTES} bytes",
    ),
    Case("bomb.html.gz", gzip_bomb, "too_large", f"decompresses to more than {MAX_BYTES} bytes"),
    Case("zipped.html.gz", lambda: gzip.compress(nested(3)), "document", ENGLISH),
    Case(
        "no-body.html",
        lambda: b"<html><head><title>T</title></head></html>",
        "empty_after_cleaning",
        "no body text left",
    ),
    Case("nested-300.html", lambda: nested(300), "document", ENGLISH),
    Case("nested-5000.html", lambda: nested(5000), "too_deeply_nested", "nest deeper"),
    Case(
        "lines.jsonl",
        lambda: b'not json\n{"title": "no text"}\n',
        "invalid_jsonl",
        "line is not JSON",
        source_suffix="#L1",
    ),
    Case("lines.jsonl", None, "missing_text", "no non-empty text", source_suffix="#L2"),
    Case("furniture.txt", lambda: FURNITURE.encode(), "empty_after_cleaning", "furniture"),
    Case("loop.txt", None, "unreadable", "Too many levels of symbolic links"),
    Case("dangling.txt", None, "not_found", "broken symbolic link"),
    Case(
        "longer-than-spacy.txt",
        longer_than_spacy,
        "document",
        LAST_PARAGRAPH,
        lambda row: any(
            e["text"] == "Angela Merkel" and e["start"] > SPACY_MAX_LENGTH for e in row["entities"]
        ),
    ),
    Case(
        "korean.txt",
        lambda: KOREAN.encode() * 3,
        "document",
        "부산항",
        lambda row: (row["language"], row["entities"], row["ner_model"]) == ("ko", [], None),
    ),
]


def make(corpus: Path) -> None:
    corpus.mkdir()
    for case in CASES:
        if case.content is not None:
            (corpus / case.name).write_bytes(case.content())
    (corpus / "loop.txt").symlink_to(corpus / "loop-back.txt")
    (corpus / "loop-back.txt").symlink_to(corpus / "loop.txt")
    (corpus / "dangling.txt").symlink_to(corpus / "gone.txt")


@pytest.fixture(scope="module")
def outcomes(prefect_api: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """source -> its document or reject row, after one run over every case."""
    work = tmp_path_factory.mktemp("bad-input")
    make(work / "corpus")
    state, _ = run([work / "corpus"], work / "out")
    summary = state.result()
    found = {row["source"]: row for row in rows(work / "out", "documents")}
    found |= {row["source"]: row for row in rows(work / "out", "rejects")}
    return {"summary": summary, "rows": found, "corpus": work / "corpus"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.name}{case.source_suffix}")
def test_each_bad_input_gets_the_expected_outcome(outcomes: dict[str, Any], case: Case) -> None:
    source = (outcomes["corpus"] / case.name).as_uri() + case.source_suffix
    row = outcomes["rows"].get(source)
    assert row is not None, f"{source} is in neither documents nor rejects"
    if case.outcome == "document":
        assert "reason" not in row, row.get("detail")
        assert case.detail in row["text"]
    else:
        assert (row.get("reason"), case.detail in row.get("detail", "")) == (case.outcome, True), (
            row
        )
    assert case.check(row)


def test_every_input_is_accounted_for(outcomes: dict[str, Any]) -> None:
    summary = outcomes["summary"]
    inputs = {(outcomes["corpus"] / case.name).as_uri() + case.source_suffix for case in CASES}
    assert set(outcomes["rows"]) == inputs | {
        (outcomes["corpus"] / "loop-back.txt").as_uri()  # the loop's other link, rejected too
    }
    assert summary.inputs == summary.documents + summary.rejects == len(outcomes["rows"])


def as_nobody(function: Callable[[], Any]) -> Any:
    """`function()` run by an unprivileged user: root reads any file whatever its
    permissions, so a forked child drops to `nobody` first."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's outcome comes back through the pipe
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            os.write(writer, pickle.dumps(function()))
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as result:
        outcome = pickle.loads(result.read())
    os.waitpid(child, 0)
    return outcome


@pytest.fixture
def open_directory() -> Iterator[Path]:
    """A directory that every user may enter (pytest's own are private to their owner)."""
    directory = Path(tempfile.mkdtemp(prefix="docpipe-test-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


def fetched(location: Path) -> list[tuple[str, str, str]]:
    """(source, reason, detail) of the rejects when `location` is discovered and read."""
    found = discover([str(location)], lambda url: [url])
    rejects = [reject for where in found.locations for reject in read_file(where, MAX_BYTES)[1]]
    return [(reject.source, reject.reason, reject.detail) for reject in rejects]


def test_files_and_directories_without_read_permission_are_rejected(
    open_directory: Path,
) -> None:
    locked = open_directory / "locked.txt"
    locked.write_text(ENGLISH)
    locked.chmod(0)
    closed = open_directory / "closed"
    closed.mkdir()
    (closed / "inside.txt").write_text(ENGLISH)
    closed.chmod(0)
    assert sorted(as_nobody(lambda: fetched(open_directory))) == [
        (closed.as_uri(), "unreadable", "cannot list directory: Permission denied"),
        (
            locked.as_uri(),
            "unreadable",
            f"PermissionError: [Errno 13] Permission denied: '{locked}'",
        ),
    ]
