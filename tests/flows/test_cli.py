"""`docpipe run`: clear errors on bad arguments, a summary and the output path on success."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.layout import read_dataset
from tasks.lock import hold
from tests.data.archive import MONTHS, daily_runs
from tests.fixture_site import FixtureSite

runner = CliRunner()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no/such/dir"], "no such file, directory or glob match: no/such/dir"),
        (["seeds/", "--timezone", "Mars/Olympus"], "unknown timezone 'Mars/Olympus'"),
        (["seeds/", "--batch-size", "0"], "batch_size"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Value error" not in result.output  # pydantic's prefix is noise to a user


def test_unwritable_output_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = runner.invoke(app, ["run", "seeds/", "--output", str(blocker / "out")])
    assert result.exit_code == 2
    assert "is not writable" in result.output


@pytest.mark.usefixtures("prefect_api")
def test_run_prints_summary_and_output(seed_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    result = runner.invoke(
        app, ["run", str(seed_copy), "--output", str(output), "--timezone", "Asia/Seoul"]
    )
    assert result.exit_code == 0, result.output
    assert "1 input -> 1 document, 0 rejects, 0 unchanged" in result.output
    assert f"Output {output} now holds 1 document and 0 rejects" in result.output
    # The closing hint runs as printed, with what `make install` installed.
    hint = result.output.split("Query it: ", 1)[1].strip()
    queried = subprocess.run(hint, shell=True, capture_output=True, text=True, check=False)
    assert queried.returncode == 0, queried.stderr
    assert "China, Russia Highlight Security Cooperation" in queried.stdout
    assert (
        "Shanghai Cooperation Organization" in read_dataset(output, "entities")["text"].to_pylist()
    )

    verified = runner.invoke(app, ["verify", str(output)])
    assert verified.exit_code == 0, verified.output
    mentions = read_dataset(output, "entities").num_rows
    assert (
        f"OK, 1 documents, {mentions} entity mentions and 0 rejects in 2 parts" in verified.output
    )
    (output / "documents" / "part-x.parquet.tmp").write_bytes(b"PAR1")
    damaged = runner.invoke(app, ["verify", str(output)])
    assert damaged.exit_code == 1
    assert "part-x.parquet.tmp: not a part (a temporary or stray file)" in damaged.output


def test_compact_merges_refuses_while_a_run_writes_and_names_a_wrong_folder(
    tmp_path: Path,
) -> None:
    wrong = runner.invoke(app, ["compact", str(tmp_path)])
    assert wrong.exit_code == 1
    assert f"{tmp_path} is not a docpipe output" in wrong.output
    output = tmp_path / "out"
    daily_runs(output, 4)
    with hold(output, 0, "a run"):
        busy = runner.invoke(app, ["compact", str(output)])
    assert busy.exit_code == 1
    assert "is busy: another docpipe run or `docpipe compact` is writing it" in busy.output

    compacted = runner.invoke(app, ["compact", str(output)])

    assert compacted.exit_code == 0, compacted.output
    assert f"documents: 6 parts -> {MONTHS}" in compacted.output
    assert runner.invoke(app, ["verify", str(output)]).exit_code == 0


@pytest.mark.usefixtures("prefect_api")
def test_private_hosts_are_refused_unless_allowed(site: FixtureSite, tmp_path: Path) -> None:
    url = site.url("/en.html")
    refused = runner.invoke(app, ["run", url, "--output", str(tmp_path / "refused")])
    assert refused.exit_code == 0, refused.output
    assert "private_address" in refused.output
    assert site.hits["/en.html"] == 0

    allowed = runner.invoke(
        app, ["run", url, "--output", str(tmp_path / "allowed"), "--allow-private-hosts"]
    )
    assert allowed.exit_code == 0, allowed.output
    assert "1 input -> 1 document, 0 rejects" in allowed.output
