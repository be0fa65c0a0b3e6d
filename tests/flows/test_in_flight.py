"""BatchesInFlight: a bounded queue of batches, each finished or recorded as failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flows.in_flight import BatchesInFlight
from schemas.models import Batch, SourceBatch


@dataclass
class State:
    failed: bool = False
    message: str = ""

    def is_failed(self) -> bool:
        return self.failed


@dataclass
class Done:
    value: Any

    @property
    def state(self) -> State:
        return State()

    def result(self) -> Any:
        return self.value


@dataclass
class Failed:
    message: str

    @property
    def state(self) -> State:
        return State(failed=True, message=self.message)

    def result(self) -> Any:
        raise RuntimeError(self.message)


def _batch(number: int) -> SourceBatch:
    return SourceBatch(name=f"batch-{number:04d}", locations=[f"/in/{number}a", f"/in/{number}b"])


def _fetched(unchanged: int) -> Batch[Any]:
    return Batch[Any](name="b", documents=[], rejects=[], unchanged=["x"] * unchanged)


def _queue(total: int, limit: int, progress: list[float]) -> BatchesInFlight:
    fingerprints = {f"/in/{n}{s}": (1, 2) for n in range(1, total + 1) for s in "ab"}
    return BatchesInFlight(
        total=total,
        limit=limit,
        fingerprints=fingerprints,
        logger=logging.getLogger("test"),
        on_progress=progress.append,
    )


def test_the_oldest_batch_finishes_once_the_limit_is_reached() -> None:
    progress: list[float] = []
    queue = _queue(total=3, limit=2, progress=progress)
    queue.add(_batch(1), {"fetch": Done(_fetched(1)), "export": Done(["documents/part-1"])})
    assert queue.finished == 0  # under the limit: nothing waited for
    queue.add(_batch(2), {"fetch": Done(_fetched(0)), "export": Done(["documents/part-2"])})
    assert queue.finished == 1 and queue.parts == {"documents/part-1"}
    queue.add(_batch(3), {"fetch": Done(_fetched(2)), "export": Done([])})
    queue.finish_all()
    assert queue.finished == 3 and progress == [100 / 3, 200 / 3, 100.0]
    assert queue.parts == {"documents/part-1", "documents/part-2"}
    assert queue.unchanged == 3
    assert queue.failed == [] and len(queue.fingerprints) == 6


def test_a_failed_batch_is_recorded_and_its_inputs_are_not_marked_done() -> None:
    progress: list[float] = []
    queue = _queue(total=2, limit=4, progress=progress)
    queue.add(
        _batch(1),
        {"fetch": Done(_fetched(0)), "entities": Failed("model crashed"), "export": Failed("x")},
    )
    queue.add(_batch(2), {"fetch": Done(_fetched(0)), "export": Done(["documents/part-2"])})
    queue.finish_all()
    assert queue.failed == ["batch-0001 (2 inputs): entities: model crashed"]
    assert queue.failed_inputs == 2
    assert sorted(queue.fingerprints) == ["/in/2a", "/in/2b"]  # the next run redoes batch 1
    assert queue.parts == {"documents/part-2"} and progress[-1] == 100.0
