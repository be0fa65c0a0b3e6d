"""Wait until the Prefect API at PREFECT_API_URL answers /health (a new server takes ~17 s)."""

from __future__ import annotations

import os
import sys
import time

import httpx


def wait(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url.rstrip('/')}/health", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    return False


if __name__ == "__main__":
    api = os.environ["PREFECT_API_URL"]
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 90
    if not wait(api, seconds):
        sys.exit(f"Prefect API at {api} is not healthy after {seconds:.0f} s")
    print(f"Prefect API at {api} is healthy")
