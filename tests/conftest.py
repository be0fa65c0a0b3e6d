"""Shared fixtures. Prefect state (database, cached results) goes to a temporary home."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Before Prefect is imported anywhere: keep its database and result storage out of ~/.prefect.
_PREFECT_HOME = tempfile.mkdtemp(prefix="docpipe-test-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

import pytest  # noqa: E402

from tests.fixture_site import FixtureSite, serve  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_PAGE = SEEDS / "000_c1ca14e272ef07c8.txt"


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """A real Prefect API server for the whole session (it takes ~17 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A private copy of seeds/ that a test may add files to."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def site() -> Iterator[FixtureSite]:
    """The fixture web site on 127.0.0.1, new for each test (its fault counters start at 0)."""
    with serve() as running:
        yield running
