"""Language: script first, langdetect when sure, a vote on short texts, the page's word as a
hint; ISO 639-1 codes, `und` only where no judgement is possible."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from schemas.models import LanguageMethod
from tasks.language import (
    detector_factory,
    edition_in_url,
    identify,
    language_of_tag,
    second_opinion,
)
from tests.data.texts import CHINESE, ENGLISH, FRENCH, JAPANESE, KOREAN

SCRIPT, LANGDETECT, VOTE, HINT, NONE = (
    LanguageMethod.SCRIPT,
    LanguageMethod.LANGDETECT,
    LanguageMethod.VOTE,
    LanguageMethod.HINT,
    LanguageMethod.NONE,
)
LONG_ENGLISH = " ".join([ENGLISH] * 3)

# (text, declared language, expected language, expected method)
CASES = [
    # Headlines and briefs in the four languages of the seed's site, and others.
    ("Seoul shares close higher", None, "en", VOTE),
    ("서울 증시 상승 마감", None, "ko", SCRIPT),
    ("東京株、大幅に続伸", None, "ja", SCRIPT),
    ("上海股市收涨", None, "zh", SCRIPT),
    ("Die Regierung trat zurück.", None, "de", VOTE),
    ("Le gouvernement a démissionné.", None, "fr", VOTE),
    ("Правительство ушло в отставку.", None, "ru", VOTE),
    ("सरकार ने इस्तीफा दिया।", None, "hi", VOTE),
    ("Η κυβέρνηση παραιτήθηκε.", None, "el", SCRIPT),
    ("הממשלה התפטרה.", None, "he", SCRIPT),
    (KOREAN, None, "ko", SCRIPT),
    (JAPANESE, None, "ja", SCRIPT),
    (CHINESE, None, "zh", SCRIPT),
    (LONG_ENGLISH, None, "en", LANGDETECT),
    # Mixed scripts.
    ("삼성전자는 Samsung Galaxy S24 Ultra를 공개했다", None, "ko", SCRIPT),
    ("文在寅大統領はトランプ氏と会談した", None, "ja", SCRIPT),
    ("Kim said 안녕하세요 to the crowd in Busan on Friday evening", None, "en", VOTE),
    # Kanji alone cannot tell Japanese from Chinese: the page's word decides.
    ("東京都知事選挙投票率上昇", None, "zh", SCRIPT),
    ("東京都知事選挙投票率上昇", "ja", "ja", HINT),
    # Hints that agree, that decide between close languages, and that the text overrules.
    ("Le gouvernement a démissionné.", "fr", "fr", VOTE),
    ("No, creo que no.", None, "es", VOTE),
    ("No, creo que no.", "pt", "pt", HINT),
    ("Det finns ett antal.", "sv", "sv", HINT),
    ("The government resigned on Tuesday", "de", "en", VOTE),
    (LONG_ENGLISH, "fr", "en", LANGDETECT),
    ("서울 증시 상승 마감", "en", "ko", SCRIPT),
    # No judgement possible.
    ("", None, "und", NONE),
    ("OK", None, "und", NONE),
    ("12 345 678 901 234 567 890", None, "und", NONE),
    ("Hi!", "en", "und", NONE),
]


@pytest.mark.parametrize(("text", "declared", "language", "method"), CASES)
def test_identify(text: str, declared: str | None, language: str, method: LanguageMethod) -> None:
    found = identify(text, declared)
    assert (found.language, found.method) == (language, method)
    assert 0.0 <= found.score <= 1.0
    assert (found.score == 0.0) == (language == "und")


def test_score_is_a_probability_whatever_decided() -> None:
    """Script answers are certain; a sure langdetect and a clear vote score high; a close
    call between related languages scores low."""
    assert identify(KOREAN).score == 1.0
    assert identify(LONG_ENGLISH).score > 0.9
    assert identify("Le gouvernement a démissionné.").score > 0.9
    assert identify("No, creo que no.").score < 0.6


@pytest.mark.parametrize(
    ("tag", "code"),
    [("en-US", "en"), ("ko_KR", "ko"), ("zh-Hant-TW", "zh"), ("FR", "fr"), (" de ", "de"),
     ("nb-NO", "no"), ("iw", "he"),
     ("x-default", None), ("", None), (None, None), ("english", None), ("xx", None)],
)  # fmt: skip
def test_language_of_tag(tag: str | None, code: str | None) -> None:
    assert language_of_tag(tag) == code


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://english.donga.com/List/3/all/26/239758/1", "en"),
        ("https://fr.example.org/monde/article-1", "fr"),
        ("https://example.com/pt-br/noticias/1", "pt"),
        ("https://example.com/ja/news/1", "ja"),
        ("https://www.example.com/news/1", None),
        ("https://example.com/en", None),  # a page named "en", not an edition's folder
        ("file:///data/en/page.txt", None),
    ],
)
def test_edition_in_url(url: str, code: str | None) -> None:
    assert edition_in_url(url) == code


def test_deterministic() -> None:
    texts = ["Le port a rouvert. The harbour reopened.", "No, creo que no.", "東京株、大幅に続伸"]
    for text in texts:
        assert len({identify(text) for _ in range(5)}) == 1


def test_threads_starting_at_once_agree_with_one_thread() -> None:
    """Stage tasks run in a thread pool; the first detections must not race on set-up."""
    texts = [ENGLISH, FRENCH, KOREAN, JAPANESE, CHINESE, "No, creo que no."] * 4
    expected = [identify(text) for text in texts]
    detector_factory.cache_clear()
    second_opinion.cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(identify, texts)) == expected
