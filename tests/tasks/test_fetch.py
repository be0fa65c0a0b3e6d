"""Fetch: discovery of local sources, decoding of every encoding named, rejects for the rest."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from schemas.models import SourceBatch
from schemas.run import HttpOptions, Limits
from tasks.fetch import fetch_batch
from tasks.http import PageStore
from tasks.sources.decode import decode
from tasks.sources.files import discover, read_file
from tasks.sources.web import Web
from tests.data.texts import CHINESE, JAPANESE, KOREAN

MAX_BYTES = Limits().max_document_bytes


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Plain UTF-8 — with a dash and “quotes”.", "utf-8"),
        ("UTF-8 with a byte-order mark.", "utf-8-sig"),
        (KOREAN, "euc-kr"),
        (KOREAN, "cp949"),
        (JAPANESE, "shift_jis"),
        (CHINESE, "gb18030"),
    ],
)
def test_decode_page_dumps(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding), html=False) == text


@pytest.mark.parametrize("encoding", ["euc-kr", "shift_jis", "gb18030"])
def test_decode_html_uses_its_meta_charset(encoding: str) -> None:
    body = {"euc-kr": KOREAN, "shift_jis": JAPANESE, "gb18030": CHINESE}[encoding]
    html = f'<html><head><meta charset="{encoding}"></head><body><p>{body}</p></body></html>'
    assert decode(html.encode(encoding), html=True) == html


def test_discover_walks_directories_and_expands_globs(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ["a/one.txt", "a/b/two.html", "a/b/three.jsonl", "a/notes.md", "a/.hidden.txt"]:
        (tmp_path / name).write_text("x")
    found = discover([str(tmp_path / "a"), str(tmp_path / "a" / "**" / "*.html")], no_web)
    assert found.locations == [
        str(tmp_path / "a" / "one.txt"),
        str(tmp_path / "a" / "b" / "three.jsonl"),
        str(tmp_path / "a" / "b" / "two.html"),
    ]
    assert found.skipped == [str(tmp_path / "a" / "notes.md")]
    missing = str(tmp_path / "missing*.txt")
    assert discover([missing], no_web).locations == [missing]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b" \n\n  ", "empty"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("notes.pdf", b"%PDF-1.4", "unsupported_type"),
        ("missing.txt", None, "not_found"),
        ("big.txt", b"x" * 2001, "too_large"),
        ("big.html.gz", gzip.compress(b" " * 2001), "too_large"),
        ("damaged.html.gz", gzip.compress(b"<p>page</p>")[:-12], "unreadable"),
        ("not-gzip.txt.gz", b"plain text", "unreadable"),
        ("empty.jsonl", b"\n\n", "empty"),
    ],
)
def test_unusable_files_become_rejects(
    tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    documents, rejects = read_file(str(path), max_bytes=2000)
    assert documents == []
    assert [(r.source, r.stage, r.reason) for r in rejects] == [(path.as_uri(), "fetch", reason)]
    assert rejects[0].detail


def no_web(url: str) -> list[str]:
    raise AssertionError(f"no URL expected here, got {url}")


def test_url_list_files_are_expanded(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("# morning run\nhttps://example.org/a\n\nhttp://example.org/b\n")
    page = tmp_path / "page.txt"
    page.write_text("https://example.org/a is where it was posted.\n")
    found = discover([str(urls), str(page)], no_web)
    assert found.locations == ["https://example.org/a", "http://example.org/b", str(page)]


def test_jsonl_lines_become_documents_or_rejects(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    lines = [
        json.dumps({"text": "A page dump.", "url": "https://example.org/a"}),
        json.dumps({"html": "<html><body><p>Hi</p></body></html>", "id": "b-7"}),
        "{not json",
        json.dumps({"title": "no body"}),
        "",
        json.dumps({"text": "Same page again.", "url": "https://example.org/a"}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    batch = fetch_batch(
        SourceBatch(name="batch-0001", locations=[str(path)]), offline_web(tmp_path), {}
    )[0]
    assert [(d.source, d.content_type) for d in batch.documents] == [
        ("https://example.org/a", "text"),
        (f"{path.as_uri()}#b-7", "html"),
    ]
    assert [(r.source, r.reason) for r in batch.rejects] == [
        (f"{path.as_uri()}#L3", "invalid_jsonl"),
        (f"{path.as_uri()}#L4", "missing_text"),
        ("https://example.org/a", "duplicate_source"),
    ]


def offline_web(tmp_path: Path) -> Web:
    return Web(
        HttpOptions(), MAX_BYTES, False, PageStore(tmp_path / "_http"), tmp_path / "_downloads"
    )


def test_doc_id_is_stable_and_content_hashed(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text("Title\n\nBody text.", encoding="utf-8")
    (first,), _ = read_file(str(path), max_bytes=1000)
    (again,), _ = read_file(str(path), max_bytes=1000)
    path.write_text("Title\n\nOther body text.", encoding="utf-8")
    (changed,), _ = read_file(str(path), max_bytes=1000)
    assert first.doc_id == again.doc_id and len(first.doc_id) == 16
    assert changed.doc_id == first.doc_id
    assert changed.content_sha256 != first.content_sha256


def test_gzipped_inputs_and_long_jsonl_lines(tmp_path: Path) -> None:
    page = tmp_path / "page.txt.gz"
    page.write_bytes(gzip.compress("Title\n\nBody text, café.".encode()))
    lines = tmp_path / "lines.jsonl.gz"
    long_line = json.dumps({"text": "x" * 3000})
    lines.write_bytes(gzip.compress(f"{long_line}\n{json.dumps({'text': 'Short.'})}\n".encode()))
    (document,), _ = read_file(str(page), max_bytes=2000)
    assert document.content == "Title\n\nBody text, café."
    documents, rejects = read_file(str(lines), max_bytes=2000)
    assert [d.content for d in documents] == ["Short."]
    assert [(r.source, r.reason) for r in rejects] == [(f"{lines.as_uri()}#L1", "too_large")]


def test_directories_and_pipes_named_as_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    os.mkfifo(tmp_path / "pipe.txt")
    for name, detail in [("folder.txt", "a directory"), ("pipe.txt", "not a regular file")]:
        _, (reject,) = read_file(str(tmp_path / name), max_bytes=2000)
        assert (reject.reason, detail in reject.detail) == ("unsupported_type", True)
