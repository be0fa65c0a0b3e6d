"""The `compact-output` flow: `docpipe compact` as a deployment, scheduled or run by hand."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from tasks.compact import Compaction, compact_parts


@flow(name="compact-output", flow_run_name="compact {output}")
def compact_output_flow(output: str = "out", wait_seconds: float = 600.0) -> Compaction:
    """Merge the output's small parts; waits up to `wait_seconds` for the runs writing it."""
    compaction: Compaction = compact_parts(Path(output).absolute(), wait_seconds)
    return compaction
