"""The batches whose stages run at the same time, finished oldest first.

The flow submits each batch's chain of stages and hands its futures here. At most `limit`
batches are in flight (two per core keeps every worker busy while the next batch is fetched,
and memory does not grow with the corpus). Finishing a batch collects its export's parts, or,
when a stage failed after its retries, records the failure without stopping the other
batches: the failed batch's inputs are forgotten from `fingerprints`, so the next run
processes them again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemas.models import SourceBatch
from tasks.state import Fingerprint


class Future(Protocol):
    """What is used of a Prefect future: its result and, after a failure, its state."""

    @property
    def state(self) -> Any: ...

    def result(self) -> Any: ...


# A batch's futures by stage name, in order: fetch first, export last.
Stages = Mapping[str, Future]


@dataclass
class BatchesInFlight:
    total: int  # batches in the run
    limit: int  # batches in flight at most
    fingerprints: dict[str, Fingerprint]  # of the inputs to record as done at the end
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    on_progress: Callable[[float], object]  # told the percent of the batches finished
    parts: set[str] = field(default_factory=set)  # written by the finished batches
    unchanged: int = 0  # documents fetch found already in the output
    failed: list[str] = field(default_factory=list)  # "batch (N inputs): stage: cause"
    failed_inputs: int = 0
    finished: int = 0
    _queue: deque[tuple[SourceBatch, Stages]] = field(default_factory=deque)

    def add(self, batch: SourceBatch, stages: Stages) -> None:
        """Take a submitted batch; past the limit, wait for the oldest to finish first."""
        self._queue.append((batch, stages))
        if len(self._queue) >= self.limit:
            self.finish_oldest()

    def finish_all(self) -> None:
        while self._queue:
            self.finish_oldest()

    def finish_oldest(self) -> None:
        batch, stages = self._queue.popleft()
        try:
            self.parts.update(stages["export"].result())
            self.unchanged += len(stages["fetch"].result().unchanged)
        except Exception as error:  # one batch's failure must not stop the others
            for location in batch.locations:
                self.fingerprints.pop(location, None)
            cause = next(
                (f"{name}: {f.state.message}" for name, f in stages.items() if f.state.is_failed()),
                str(error),
            )
            self.failed.append(f"{batch.name} ({len(batch.locations)} inputs): {cause}")
            self.failed_inputs += len(batch.locations)
            self.logger.error("%s failed after its retries: %s", batch.name, cause)
        self.finished += 1
        self.on_progress(100.0 * self.finished / self.total)
        self.logger.info("progress: %d/%d batches exported", self.finished, self.total)
