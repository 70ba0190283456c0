"""Shared test set-up: headless plotting, and the data folder the tests read."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BuiltSite:
    """The report site built once per test session from the real notebooks and the default data."""

    out: Path
    returncode: int
    log: str

    @property
    def findings_dir(self) -> Path:
        return self.out / "findings"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> BuiltSite:
    """Run ``python -m helpers build --force`` on the default data into a temporary site folder (its cache
    beside it, not in .build-cache/), once per test run.

    Under pytest-xdist every worker asks for it; a file lock in the run's shared
    temporary root makes the first worker build and the others reuse its result.
    """
    import fcntl
    import json

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the root shared by all workers of this run
    out = shared / "built-site"
    done = shared / "built-site.json"
    with open(shared / "built-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                proc = subprocess.run(
                    [sys.executable, "-m", "helpers", "build", "--force", "--out", str(out),
                     "--cache-dir", str(shared / "built-site-cache"), "--progress", "lines"],
                    cwd=ROOT, capture_output=True, text=True, timeout=1800,
                )
                done.write_text(json.dumps({"returncode": proc.returncode, "log": proc.stdout + proc.stderr}))
            res = json.loads(done.read_text())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return BuiltSite(out=out, returncode=res["returncode"], log=res["log"])
