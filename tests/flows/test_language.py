"""Short texts reach the language stage whole: sentences as JSONL records, none lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.language import identify
from tests.flows.runs import rows, run
from tests.quality.langid import load_sentences, write_jsonl

pytestmark = pytest.mark.usefixtures("prefect_api")

PER_LANGUAGE = 5


def test_sentences_as_jsonl_records_are_documents_in_their_language(tmp_path: Path) -> None:
    sentences = {code: lines[:PER_LANGUAGE] for code, lines in load_sentences().items()}
    source = write_jsonl(sentences, tmp_path / "sentences.jsonl")

    run([source], tmp_path / "out")

    assert rows(tmp_path / "out", "rejects") == []
    documents = {
        row["source"].rsplit("#", 1)[1]: row for row in rows(tmp_path / "out", "documents")
    }
    expected = {
        f"{code}-{n}": (code, text)
        for code, lines in sentences.items()
        for n, text in enumerate(lines)
    }
    assert sorted(documents) == sorted(expected)
    for key, (_, text) in expected.items():
        row = documents[key]
        # A line alone is body, whole (its spacing folded).
        assert (row["title"], row["text"]) == (None, " ".join(text.split()))
        assert row["language"] == identify(text).language
    right = sum(documents[key]["language"] == code for key, (code, _) in expected.items())
    assert right / len(expected) >= 0.98
