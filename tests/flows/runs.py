"""Helpers for flow tests: run the flow through the API, read task states and output rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pyarrow as pa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import State

from flows.pipeline import process_documents
from tasks.layout import read_dataset


def run(
    sources: Sequence[Path | str], output: Path, runner: Any = None, **parameters: Any
) -> tuple[State[Any], UUID]:
    """Run the flow (with another task runner if given) and check that it completed."""
    flow = process_documents.with_options(task_runner=runner) if runner else process_documents
    state = flow(
        sources=[str(s) for s in sources], output=str(output), return_state=True, **parameters
    )
    assert state.is_completed(), state.message
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return state, flow_run_id


def task_states(flow_run_id: UUID) -> dict[str, tuple[str, int]]:
    """Task run name -> (state name, run count)."""
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {t.name: ((t.state.name or "") if t.state else "", t.run_count) for t in task_runs}


def rows(output: Path, dataset: str) -> list[dict[str, Any]]:
    table: pa.Table = read_dataset(output, dataset)
    return sorted(table.to_pylist(), key=lambda row: json.dumps(row, default=str))
