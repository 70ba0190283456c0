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
    """Run ``python -m helpers build --force`` into a temporary folder, once.

    Tests that use it should carry ``@pytest.mark.xdist_group("site")`` so that,
    under pytest-xdist, they share one worker and the site is built only once.
    """
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "build", "--force", "--out", str(out),
         "--findings-dir", str(out / "findings"), "--progress", "lines"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    return BuiltSite(out=out, returncode=proc.returncode, log=proc.stdout + proc.stderr)
