"""Serve the deployments of deploy/prefect.yaml from this one process (no worker needed).

    python -m flows.serve        (or: make serve)

The deployments, their parameters and schedules come from `deploy/prefect.yaml`, so the
worker set-up and this one never drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prefect import serve
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron, Interval, Schedule

PROJECT = Path(__file__).resolve().parent.parent
PREFECT_YAML = PROJECT / "deploy" / "prefect.yaml"


def _schedule(spec: dict[str, Any]) -> Schedule:
    options = {"timezone": spec.get("timezone"), "active": spec.get("active", True)}
    if "cron" in spec:
        return Cron(spec["cron"], **options)
    return Interval(spec["interval"], **options)


def deployments_from_yaml(path: Path = PREFECT_YAML) -> list[Any]:
    """`flow.to_deployment(...)` for each deployment of the yaml file, of its entrypoint's flow."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        load_flow_from_entrypoint(str(PROJECT / spec["entrypoint"])).to_deployment(
            name=spec["name"],
            description=spec.get("description"),
            tags=spec.get("tags"),
            parameters=spec.get("parameters") or {},
            schedules=[_schedule(schedule) for schedule in spec.get("schedules") or []],
        )
        for spec in config["deployments"]
    ]


if __name__ == "__main__":
    serve(*deployments_from_yaml())
