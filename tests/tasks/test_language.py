"""Language: seeded langdetect, ISO 639-1 codes, `und` for text too short to judge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tasks.language import detect_language, detector_factory
from tests.data.texts import CHINESE, ENGLISH, FRENCH, JAPANESE, KOREAN


@pytest.mark.parametrize(
    ("text", "language"),
    [(ENGLISH, "en"), (FRENCH, "fr"), (KOREAN, "ko"), (JAPANESE, "ja"), (CHINESE, "zh")],
)
def test_top_language_as_iso_639_1(text: str, language: str) -> None:
    code, score = detect_language(text)
    assert code == language
    assert 0.5 < score <= 1.0


@pytest.mark.parametrize("text", ["", "OK", "12 345 678 901 234 567 890", "Hi there, Bob!"])
def test_too_short_to_judge_is_und(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)


def test_deterministic() -> None:
    mixed = "Le port a rouvert. The harbour reopened. Der Hafen ist wieder offen."
    assert len({detect_language(mixed) for _ in range(5)}) == 1


def test_threads_starting_at_once_agree_with_one_thread() -> None:
    """Stage tasks run in a thread pool; the first detections must not race on set-up."""
    texts = [ENGLISH, FRENCH, KOREAN, JAPANESE, CHINESE] * 4
    expected = [detect_language(text) for text in texts]
    detector_factory.cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(detect_language, texts)) == expected
