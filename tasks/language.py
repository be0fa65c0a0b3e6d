"""Language stage: which language each document is in, and how that was decided.

The evidence is read from the cheapest to the dearest:

1. The writing system, where it settles the language: Hangul is Korean, kana Japanese, Greek
   Greek, and so on (`SCRIPTS`); Han characters without kana are Chinese unless the page says
   Japanese.
2. langdetect (seeded), when the text is long enough and langdetect is sure.
3. Otherwise langdetect and lingua vote: each language's score is lingua's confidence, times
   langdetect's probability and the language's share of the web, both tempered (`_vote`).
   The language the page declares (`declared_language`, or an edition in its URL) multiplies
   its language's score, so it decides between languages the text leaves open and never
   overrules a text that clearly says otherwise.

Every answer is deterministic: langdetect is seeded and lingua has no randomness.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from prefect import task

from schemas.models import Batch, CleanDocument, DetectedDocument, LanguageMethod, Stage
from schemas.run import Limits
from tasks.common import STAGE_TASK_OPTIONS, log_stage, stage_cache_key, timed_out
from tasks.pool import TimedOut, in_processes

UNDETERMINED = "und"
# Shorter than this (in letters, see `_scripts`) no identifier judges: it guesses.
MIN_LETTERS = 4
# From this length on, langdetect alone decides when it is this sure.
LONG_LETTERS = 60
SURE = 0.9
# The vote (measured on langid-dev; every setting from 0.2 to 0.5 scores within 0.05 points).
_DETECT_FLOOR = 0.01  # langdetect omits languages under 0.1: they still get a little weight
_DETECT_WEIGHT = 0.3
_WEB_SHARE_WEIGHT = 0.3
# How much a page's declared language multiplies its language's score.
DECLARED_WEIGHT = 10.0
# Han characters without kana are Chinese, or Japanese written in kanji alone (headlines).
HAN_ONLY_SCORE = 0.95

# Share of web pages in each language, in percent: Common Crawl CC-MAIN-2024-42, pages by
# primary language (commoncrawl/cc-crawl-statistics, plots/languages.csv). A short text that
# could be Russian or Macedonian is far more often Russian.
WEB_SHARE = {
    "af": 0.0103, "ar": 0.6709, "bg": 0.2992, "bn": 0.1186, "ca": 0.2085, "cs": 1.0630,
    "cy": 0.0117, "da": 0.4640, "de": 5.3038, "el": 0.5728, "en": 43.4241, "es": 4.5387,
    "et": 0.1326, "fa": 0.7051, "fi": 0.3444, "fr": 4.3960, "gu": 0.0113, "he": 0.2473,
    "hi": 0.2089, "hr": 0.2149, "hu": 0.5649, "id": 1.1235, "it": 2.5282, "ja": 5.0419,
    "kn": 0.0142, "ko": 0.7388, "lt": 0.1668, "lv": 0.0942, "mk": 0.0383, "ml": 0.0269,
    "mr": 0.0258, "ne": 0.0493, "nl": 1.8145, "no": 0.3060, "pa": 0.0079, "pl": 1.8065,
    "pt": 2.3146, "ro": 0.5978, "ru": 6.0444, "sk": 0.3705, "sl": 0.1558, "so": 0.0050,
    "sq": 0.0497, "sv": 0.6649, "sw": 0.0096, "ta": 0.0473, "te": 0.0220, "th": 0.4071,
    "tl": 0.0088, "tr": 1.2422, "uk": 0.6037, "ur": 0.0306, "vi": 1.0454, "zh": 4.8129,
}  # fmt: skip
_SMALLEST_SHARE = min(WEB_SHARE.values())

# Unicode blocks of the scripts that settle a language (or, for Han, narrow it), as
# (first, last, script). Any other letter is "other" and goes to the identifiers.
_BLOCKS = sorted([
    (0x0370, 0x03FF, "el"), (0x1F00, 0x1FFF, "el"),  # Greek
    (0x0590, 0x05FF, "he"),  # Hebrew
    (0x0980, 0x09FF, "bn"), (0x0A00, 0x0A7F, "pa"), (0x0A80, 0x0AFF, "gu"),
    (0x0B80, 0x0BFF, "ta"), (0x0C00, 0x0C7F, "te"), (0x0C80, 0x0CFF, "kn"),
    (0x0D00, 0x0D7F, "ml"), (0x0E00, 0x0E7F, "th"),
    (0x1100, 0x11FF, "hangul"), (0x3130, 0x318F, "hangul"), (0xAC00, 0xD7A3, "hangul"),
    (0x3040, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"), (0xFF66, 0xFF9F, "kana"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xF900, 0xFAFF, "han"),
    (0x20000, 0x2FA1F, "han"),
])  # fmt: skip
_STARTS = [first for first, _, _ in _BLOCKS]
# A Han character or a Hangul syllable writes a syllable or a word, not a sound: it counts
# as two letters, so the length floor asks as much of Korean and Chinese as of English.
_DENSE = frozenset({"han", "hangul"})
# Letters (combining marks belong to the letter before them), the ASCII ones apart: most
# text is mostly ASCII, and those need no look-up.
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z]")
# Japanese when kana weigh at least this share of its Han and kana: one kana in a headline
# of kanji ("東京株、大幅に続伸"), not a product name in katakana quoted in a Chinese article.
_KANA_SHARE = 0.05
# Letters langdetect reads (it stops at 10,000 characters too).
_READ_CHARACTERS = 10_000

_factory_lock = threading.Lock()


@dataclass(frozen=True)
class Identified:
    language: str  # ISO 639-1, or `und`
    score: float  # probability of `language`, in [0, 1]
    method: LanguageMethod


@cache
def detector_factory() -> DetectorFactory:
    """Profiles loaded once per process, under a lock.

    langdetect's own lazy `detect_langs` set-up is not thread-safe: two threads loading the
    profiles at once corrupt them (Korean came out as Chinese).
    """
    with _factory_lock:
        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        factory.set_seed(0)  # deterministic: the same text always gets the same answer
        return factory


@cache
def second_opinion() -> LanguageDetector:
    """lingua, over the languages langdetect knows, so that both answer in the same terms.

    Built on first use: a run of articles never needs it. Its models load lazily, per
    language, and stay for the process.
    """
    known = {code.split("-")[0] for code in detector_factory().get_lang_list()}
    languages = [language for language in Language.all() if _code(language) in known]
    return LanguageDetectorBuilder.from_languages(*languages).build()


def _code(language: Language) -> str:
    # langdetect says "no" for Norwegian; lingua tells Bokmål from Nynorsk.
    return (
        "no" if language.iso_code_639_1 == IsoCode639_1.NB else language.iso_code_639_1.name.lower()
    )


def _script(letter: str) -> str:
    point = ord(letter)
    index = bisect_right(_STARTS, point) - 1
    if index >= 0 and point <= _BLOCKS[index][1]:
        return _BLOCKS[index][2]
    return "other"


def _scripts(text: str) -> dict[str, int]:
    """Letters per script. Their sum is the text's length, fair to every script: a letter
    with its combining marks is one, a Han character or a Hangul syllable two."""
    text = text[:_READ_CHARACTERS]
    counts = {"other": len(_ASCII_LETTER.findall(text))}
    for letter in _OTHER_LETTER.findall(text):
        script = _script(letter)
        counts[script] = counts.get(script, 0) + (2 if script in _DENSE else 1)
    return counts


def _settled_by_script(counts: dict[str, int]) -> list[str]:
    """The languages the text's main script allows (first the likeliest), or none when its
    main script is shared by many languages (Latin, Cyrillic, Arabic, Devanagari)."""
    han, kana = counts.get("han", 0), counts.get("kana", 0)
    groups = {script: count for script, count in counts.items() if script not in ("han", "kana")}
    if kana and kana >= _KANA_SHARE * (han + kana):
        groups["ja"] = han + kana
    elif han:
        groups["zh"] = han + kana
    script, count = max(sorted(groups.items()), key=lambda item: item[1])
    if script == "other" or 2 * count <= sum(counts.values()):
        return []
    if script == "zh":
        return ["zh", "ja"]
    return ["ko" if script == "hangul" else script]


def detect_probabilities(text: str) -> dict[str, float]:
    """langdetect's probability of each language it considers (zh-cn and zh-tw are zh)."""
    try:
        detector = detector_factory().create()
        detector.append(text)
        found = detector.get_probabilities()
    except LangDetectException:
        return {}
    probabilities: dict[str, float] = {}
    for guess in found:
        code = guess.lang.split("-")[0]
        probabilities[code] = probabilities.get(code, 0.0) + float(guess.prob)
    return probabilities


def top_language(probabilities: dict[str, float]) -> str:
    """The likeliest language (the first in code order on a tie: deterministic)."""
    return max(sorted(probabilities), key=probabilities.__getitem__)


def _by_langdetect(detected: dict[str, float]) -> Identified:
    best = top_language(detected)
    return Identified(best, round(detected[best], 4), LanguageMethod.LANGDETECT)


def _vote(text: str, detected: dict[str, float], declared: str | None) -> Identified:
    """Both identifiers and the web's language shares; the declared language weighs more."""
    heard = {
        _code(result.language): result.value
        for result in second_opinion().compute_language_confidence_values(text[:_READ_CHARACTERS])
    }
    scores = {
        code: heard.get(code, 0.0)
        * (detected.get(code, 0.0) + _DETECT_FLOOR) ** _DETECT_WEIGHT
        * WEB_SHARE.get(code, _SMALLEST_SHARE) ** _WEB_SHARE_WEIGHT
        for code in sorted(set(heard) | set(detected))
    }
    if not any(scores.values()):
        if not detected:
            return Identified(UNDETERMINED, 0.0, LanguageMethod.NONE)
        return _by_langdetect(detected)
    by_text = max(scores, key=scores.__getitem__)
    if declared in scores:
        scores[declared] *= DECLARED_WEIGHT
    best = max(scores, key=scores.__getitem__)
    method = LanguageMethod.HINT if best != by_text else LanguageMethod.VOTE
    return Identified(best, round(scores[best] / sum(scores.values()), 4), method)


def identify(text: str, declared: str | None = None) -> Identified:
    """The text's language, its probability and how it was found. `declared`: the language
    the page says it is in (ISO 639-1), if any."""
    counts = _scripts(text)
    if sum(counts.values()) < MIN_LETTERS:
        return Identified(UNDETERMINED, 0.0, LanguageMethod.NONE)
    if allowed := _settled_by_script(counts):
        if declared in allowed[1:]:
            return Identified(declared, HAN_ONLY_SCORE, LanguageMethod.HINT)
        score = 1.0 if len(allowed) == 1 else HAN_ONLY_SCORE
        return Identified(allowed[0], score, LanguageMethod.SCRIPT)
    detected = detect_probabilities(text)
    if detected and sum(counts.values()) >= LONG_LETTERS and max(detected.values()) >= SURE:
        return _by_langdetect(detected)
    return _vote(text, detected, declared)


_LANGUAGE_NAMES = {
    "arabic": "ar", "chinese": "zh", "dutch": "nl", "english": "en", "french": "fr",
    "german": "de", "hindi": "hi", "indonesian": "id", "italian": "it", "japanese": "ja",
    "korean": "ko", "persian": "fa", "polish": "pl", "portuguese": "pt", "russian": "ru",
    "spanish": "es", "swedish": "sv", "turkish": "tr", "ukrainian": "uk", "vietnamese": "vi",
}  # fmt: skip
_TAG = re.compile(r"([a-z]{2})(?:[-_][a-z0-9]{2,8})*", re.IGNORECASE)
# Codes for a language langdetect names otherwise: Norwegian Bokmål and Nynorsk, and the
# withdrawn codes of Hebrew and Indonesian that old pages still use.
_SAME_LANGUAGE = {"nb": "no", "nn": "no", "iw": "he", "in": "id"}


def language_of_tag(tag: str | None) -> str | None:
    """ISO 639-1 code of a language tag ("en-US", "ko_KR", "zh-Hant"), if it names a
    language the stage knows."""
    match = _TAG.fullmatch((tag or "").strip())
    code = match.group(1).lower() if match else None
    code = _SAME_LANGUAGE.get(code or "", code)
    return code if code in WEB_SHARE else None


def edition_in_url(source: str) -> str | None:
    """The language edition a URL names: english.example.com, fr.example.org, /en/, /pt-br/."""
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https"):
        return None
    label = (parts.hostname or "").split(".")[0]
    if code := _LANGUAGE_NAMES.get(label) or language_of_tag(label):
        return code
    first = parts.path.strip("/").split("/")[0]
    return language_of_tag(first) if "/" in parts.path.strip("/") else None


def declared_language(document: CleanDocument) -> str | None:
    """What the page says of its language: its markup or headers, else its URL."""
    return language_of_tag(document.declared_language) or edition_in_url(document.source)


def identify_all(work: list[tuple[str, str | None]]) -> list[Identified]:
    """`identify` over (text, declared language) pairs (runs in a worker process)."""
    return [identify(text, declared) for text, declared in work]


def detect_batch(
    batch: Batch[CleanDocument],
    processes: int = 0,
    timeout: float = Limits().stage_timeout_seconds,
) -> Batch[DetectedDocument]:
    """Tag every document with its language, in `processes` worker processes."""
    documents = []
    rejects = []
    work = [(document.text, declared_language(document)) for document in batch.documents]
    found = in_processes(identify_all, work, processes, timeout)
    for document, result in zip(batch.documents, found, strict=True):
        if isinstance(result, TimedOut):
            rejects.append(timed_out(document.source, Stage.LANGUAGE, timeout))
            continue
        documents.append(
            DetectedDocument(
                **document.model_dump(),
                language=result.language,
                language_score=result.score,
                language_method=result.method,
            )
        )
    return Batch[DetectedDocument](name=batch.name, documents=documents, rejects=rejects)


@task(
    name="language",
    task_run_name="language {batch.name}",
    cache_key_fn=stage_cache_key(ignore=("processes",)),
    **STAGE_TASK_OPTIONS,
)
def detect_languages(
    batch: Batch[CleanDocument], processes: int, timeout: float
) -> Batch[DetectedDocument]:
    detected = detect_batch(batch, processes, timeout)
    log_stage("language", detected)
    return detected
