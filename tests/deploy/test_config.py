"""What the Makefile and deploy/prefect.yaml promise each other, read from the files."""

from __future__ import annotations

import re

import yaml

from tests.conftest import PROJECT


def test_make_run_and_every_deployment_read_datelines_in_one_zone() -> None:
    makefile = (PROJECT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"docpipe run seeds/ .*--timezone (\S+)", makefile)
    assert match is not None
    spec = yaml.safe_load((PROJECT / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))
    processing = [d for d in spec["deployments"] if "pipeline.py" in d["entrypoint"]]
    assert {deployment["parameters"]["timezone"] for deployment in processing} == {match[1]}


def test_compaction_is_scheduled_on_the_scheduled_runs_output() -> None:
    spec = yaml.safe_load((PROJECT / "deploy" / "prefect.yaml").read_text(encoding="utf-8"))
    by_name = {deployment["name"]: deployment for deployment in spec["deployments"]}
    assert by_name["weekly"]["entrypoint"] == "flows/compact.py:compact_output_flow"
    assert by_name["weekly"]["parameters"]["output"] == by_name["scheduled"]["parameters"]["output"]
