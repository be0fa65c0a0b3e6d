"""Stage policy: cache keys follow a stage's work, timeouts and other rejects are counted."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from prefect.context import TaskRunContext

from schemas.models import Batch, CleanDocument, RejectReason, Stage
from tasks.common import reason_counts, stage_cache_key, timed_out
from tasks.language import detect_batch


def test_the_cache_key_ignores_earlier_rejects_and_ignored_parameters() -> None:
    key = stage_cache_key(ignore=("processes",))
    context = cast(
        TaskRunContext, SimpleNamespace(task=SimpleNamespace(name="detect", fn=detect_batch))
    )
    batch = Batch[CleanDocument](name="batch-0001", documents=[], rejects=[])
    rejected = batch.model_copy(update={"rejects": [timed_out("a", Stage.CLEAN, 5)]})
    other = batch.model_copy(update={"name": "batch-0002"})
    assert key(context, {"batch": batch, "processes": 2}) == key(
        context, {"batch": rejected, "processes": 8}
    )
    assert key(context, {"batch": batch, "processes": 2}) != key(
        context, {"batch": other, "processes": 2}
    )


def test_a_timed_out_item_is_a_timeout_reject_and_counted() -> None:
    reject = timed_out("https://example.org/a", Stage.ENTITIES, 30)
    assert (reject.stage, reject.reason) == (Stage.ENTITIES, RejectReason.TIMEOUT)
    assert "30 s" in reject.detail
    assert reason_counts([reject, reject]) == f"{RejectReason.TIMEOUT}: 2"
    assert reason_counts([]) == "none"
