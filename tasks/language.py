"""Language stage: langdetect, seeded so the same text always gets the same answer."""

from __future__ import annotations

import re
import threading
from functools import cache

from langdetect import DetectorFactory
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException
from prefect import task

from schemas.models import Batch, CleanDocument, DetectedDocument, Limits, Stage
from tasks.common import STAGE_TASK_OPTIONS, log_stage, stage_cache_key, timed_out
from tasks.pool import TimedOut, in_processes

UNDETERMINED = "und"
# Below this many letters langdetect guesses rather than judges.
MIN_LETTERS = 20
_LETTER = re.compile(r"[^\W\d_]")

_factory_lock = threading.Lock()


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


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the text's top language, or (`und`, 0.0)."""
    if len(_LETTER.findall(text)) < MIN_LETTERS:
        return UNDETERMINED, 0.0
    try:
        detector = detector_factory().create()
        detector.append(text)
        best = detector.get_probabilities()[0]
    except LangDetectException:
        return UNDETERMINED, 0.0
    # langdetect says zh-cn / zh-tw; ISO 639-1 has only zh.
    return best.lang.split("-")[0], round(float(best.prob), 4)


def detect_languages_of(texts: list[str]) -> list[tuple[str, float]]:
    return [detect_language(text) for text in texts]


def detect_batch(
    batch: Batch[CleanDocument],
    processes: int = 0,
    timeout: float = Limits().stage_timeout_seconds,
) -> Batch[DetectedDocument]:
    """Tag every document with its language, in `processes` worker processes."""
    texts = [document.text for document in batch.documents]
    documents = []
    rejects = []
    found = in_processes(detect_languages_of, texts, processes, timeout)
    for document, result in zip(batch.documents, found, strict=True):
        if isinstance(result, TimedOut):
            rejects.append(timed_out(document.source, Stage.LANGUAGE, timeout))
            continue
        language, score = result
        documents.append(
            DetectedDocument(**document.model_dump(), language=language, language_score=score)
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
