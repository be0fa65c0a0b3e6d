"""Fixtures of the output's crash tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


class Crash(Exception):
    """A simulated kill at a write's rename or an unlink."""


@pytest.fixture
def crash_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Make the n-th rename-into-place or unlink from now on raise `Crash` (before it acts)."""
    calls = {"left": -1}
    replace, unlink = os.replace, Path.unlink

    def arm(n: int) -> None:
        calls["left"] = n

    def tick() -> None:
        calls["left"] -= 1
        if calls["left"] == 0:
            raise Crash

    def crashing_replace(*args: Any, **kwargs: Any) -> None:
        tick()
        replace(*args, **kwargs)

    def crashing_unlink(self: Path, *args: Any, **kwargs: Any) -> None:
        tick()
        unlink(self, *args, **kwargs)

    monkeypatch.setattr(os, "replace", crashing_replace)
    monkeypatch.setattr(Path, "unlink", crashing_unlink)
    yield arm
    calls["left"] = -1
